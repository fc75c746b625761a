// The Cloud API flow through the official Node SDK (@ionos-cloud/sdk-nodejs), unmodified: create a data
// center and a LAN in it, wait for each request through /requests/{id}/status as the SDK's users do, read
// both back. Run by tests/test_e2e_node.py with the emulator's Cloud API URL and credentials in the
// environment; prints what it saw as one JSON line.
"use strict";
const ionos = require("@ionos-cloud/sdk-nodejs");

const config = new ionos.Configuration({
  basePath: process.env.IONOS_EMULATOR_CLOUD,
  username: process.env.IONOS_USERNAME,
  password: process.env.IONOS_PASSWORD,
});

async function waitFor(response) {
  // Location: <cloud>/requests/<id>/status
  const requestId = response.headers.location.split("/requests/")[1].split("/")[0];
  const requests = new ionos.RequestsApi(config);
  for (let i = 0; i < 200; i++) {
    const status = (await requests.requestsStatusGet({ requestId })).data;
    if (status.metadata.status === "DONE") return requestId;
    if (status.metadata.status === "FAILED") throw new Error(`request ${requestId} failed: ${status.metadata.message}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`request ${requestId} did not finish`);
}

async function main() {
  const dcs = new ionos.DataCentersApi(config);
  const lans = new ionos.LANsApi(config);
  const created = await dcs.datacentersPost({
    datacenter: { properties: { name: "node-sdk", location: "de/fra", description: "from the Node SDK" } },
  });
  const dcRequest = await waitFor(created);
  const datacenterId = created.data.id;
  // the SDK's model calls it `_public` but sends property names as given: the wire name is `public`
  const lan = await lans.datacentersLansPost({ datacenterId, lan: { properties: { name: "node-lan", public: true } } });
  const lanRequest = await waitFor(lan);
  const dc = (await dcs.datacentersFindById({ datacenterId })).data;
  const lanRead = (await lans.datacentersLansFindById({ datacenterId, lanId: lan.data.id })).data;
  console.log(
    JSON.stringify({
      datacenterId,
      dcStatus: created.status,
      dcRequest,
      dcState: dc.metadata.state,
      dcName: dc.properties.name,
      lanId: lanRead.id,
      lanRequest,
      lanState: lanRead.metadata.state,
      lanName: lanRead.properties.name,
      lanPublic: lanRead.properties.public,
    }),
  );
}

main().catch((err) => {
  const body = err.response ? JSON.stringify(err.response.data) : "";
  console.error(`${err.message} ${body}`);
  process.exit(1);
});
