"""End-to-end: the AI Model Hub through the unmodified `openai` client (chat completions plain and streamed,
tool calls, completions, embeddings, images, errors) and its native document collections through HTTP as
client code sends it (base64 documents, a query ranked by cosine similarity), strict mode on."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import httpx
import openai
import pytest

from support import OWNER, bearer, http_client

CHAT = "meta-llama/Llama-3.3-70B-Instruct"
EMBED = "BAAI/bge-m3"


@pytest.fixture(scope="module")
def token(emulator):
    return bearer(emulator)


@pytest.fixture(scope="module")
def client(emulator, token):
    with openai.OpenAI(base_url=f"{emulator.url}/openai/de-txl/v1", api_key=token, max_retries=0) as c:
        yield c


@pytest.fixture(scope="module")
def hub(emulator, token):
    with httpx.Client(base_url=f"{emulator.url}/aimodelhub/de-txl", headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_models_are_the_hubs_catalogue(client):
    ids = [m.id for m in client.models.list()]
    assert CHAT in ids and EMBED in ids and "black-forest-labs/FLUX.1-schnell" in ids
    assert client.models.retrieve(EMBED).owned_by == "ionos"
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("no/such-model")
    assert "no/such-model" in e.value.message


def test_chat_completion_is_deterministic_and_counts_tokens(client):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello, hub!"}]
    first = client.chat.completions.create(model=CHAT, messages=messages)
    again = client.chat.completions.create(model=CHAT, messages=messages)
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content == f"Emulated reply of {CHAT} to: Hello, hub!"
    assert first.choices[0].finish_reason == "stop"
    # "Be brief." = 3 tokens, "Hello, hub!" = 4, 3 per message
    assert first.usage.prompt_tokens == 3 + 4 + 2 * 3
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens > 0

    cut = client.chat.completions.create(model=CHAT, messages=messages, max_tokens=3, n=2)
    assert [c.message.content for c in cut.choices] == ["Emulated reply of"] * 2
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 6


def test_streamed_chat_assembles_to_the_same_answer(client):
    messages = [{"role": "user", "content": "Stream this, please."}]
    whole = client.chat.completions.create(model=CHAT, messages=messages).choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model=CHAT, messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole
    assert len([c for c in chunks if c.choices]) > 5  # one chunk per token, not one blob
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tool_call_round_trip(client):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
                    "required": ["city", "unit"],
                },
            },
        }
    ]
    messages = [{"role": "user", "content": "Weather in Berlin?"}]
    asked = client.chat.completions.create(model=CHAT, messages=messages, tools=tools)
    choice = asked.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "example", "unit": "C"}'
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "21 C"},
    ]
    answered = client.chat.completions.create(model=CHAT, messages=messages, tools=tools)
    assert answered.choices[0].message.content == "The tool answered: 21 C"

    none = client.chat.completions.create(model=CHAT, messages=messages[:1], tools=tools, tool_choice="none")
    assert none.choices[0].message.tool_calls is None


def test_completions_plain_and_streamed(client):
    done = client.completions.create(model=CHAT, prompt="Once upon a time", echo=True)
    assert done.choices[0].text.startswith("Once upon a time ")
    assert done.usage.prompt_tokens == 4
    streamed = "".join(c.choices[0].text for c in client.completions.create(model=CHAT, prompt="x", stream=True))
    assert streamed == client.completions.create(model=CHAT, prompt="x").choices[0].text


def test_embeddings_have_the_models_size_and_rank_by_meaning(client):
    out = client.embeddings.create(model=EMBED, input=["red apples", "green apples", "tax law"])
    vectors = [d.embedding for d in out.data]
    assert [len(v) for v in vectors] == [1024] * 3
    assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-6

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert dot(vectors[0], vectors[1]) > dot(vectors[0], vectors[2])
    assert out.usage.prompt_tokens == 6
    small = client.embeddings.create(model=EMBED, input="one", dimensions=8)
    assert len(small.data[0].embedding) == 8
    # base64 (the openai client's default wire format when numpy is absent is float; ask for it explicitly)
    raw = client.embeddings.with_raw_response.create(model=EMBED, input="one", encoding_format="base64")
    packed = base64.b64decode(raw.http_response.json()["data"][0]["embedding"])
    assert len(struct.unpack(f"<{len(packed) // 4}f", packed)) == 1024
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=CHAT, input="a chat model does not embed")


def test_images_are_real_pngs_of_the_requested_size(client):
    out = client.images.generate(model="black-forest-labs/FLUX.1-schnell", prompt="a lighthouse", size="64x32", n=2)
    assert len(out.data) == 2
    first = base64.b64decode(out.data[0].b64_json)
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", first[16:24])
    assert (width, height) == (64, 32)
    # the pixel data decompresses to the full image
    idat = first.index(b"IDAT")
    length = struct.unpack(">I", first[idat - 4 : idat])[0]
    assert len(zlib.decompress(io.BytesIO(first[idat + 4 : idat + 4 + length]).read())) == (1 + 64 * 3) * 32
    assert out.data[0].b64_json != out.data[1].b64_json


def test_errors_in_openais_shape(emulator, client):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=client.base_url, api_key="not-a-token", max_retries=0).models.list()
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.chat.completions.create(model=CHAT, messages=[])
    assert e.value.body["type"] == "invalid_request_error"
    r = http_client().post(f"{client.base_url}chat/completions", auth=OWNER, content=b"{not json")
    assert r.status_code == 400 and "error" in r.json()


def test_document_collection_query_ranks_by_similarity(hub):
    created = hub.post(
        "/collections", json={"type": "collection", "properties": {"name": "handbook", "description": "HR"}}
    )
    assert created.status_code == 201, created.text
    coll = created.json()
    assert coll["properties"]["embedding"]["model"] == EMBED
    assert coll["properties"]["chunking"]["enabled"] is True
    cid = coll["id"]
    docs = [
        ("vacation", "Employees have 30 days of paid vacation per year."),
        ("parking", "The parking garage opens at seven in the morning."),
        ("laptops", "Every engineer gets a laptop and a second screen."),
    ]
    items = [
        {"type": "document", "properties": {"name": n, "contentType": "text/plain", "content": b64(t)}} for n, t in docs
    ]
    added = hub.post(f"/collections/{cid}/documents", json={"items": items})
    assert added.status_code == 200, added.text
    assert len(added.json()["items"]) == 3
    assert "vectors" not in str(added.json())  # embeddings are never rendered
    assert hub.get(f"/collections/{cid}").json()["properties"]["documentsCount"] == 3

    q = hub.post(f"/collections/{cid}/query", json={"query": "how many vacation days per year", "limit": 2})
    assert q.status_code == 200, q.text
    matches = q.json()["properties"]["matches"]
    assert len(matches) == 2
    top = matches[0]["document"]["properties"]
    assert top["name"] == "vacation"
    assert base64.b64decode(top["content"]).decode() == docs[0][1]
    assert matches[0]["score"] > matches[1]["score"]

    # a document replaced in place is embedded again: the query now finds it
    laptop_id = next(d["id"] for d in added.json()["items"] if d["properties"]["name"] == "laptops")
    new = {
        "id": laptop_id,
        "properties": {
            "name": "laptops",
            "contentType": "text/plain",
            "content": b64("Vacation days roll over to March."),
        },
    }
    assert hub.put(f"/collections/{cid}/documents", json={"items": [new]}).status_code == 200
    q2 = hub.post(f"/collections/{cid}/query", json={"query": "vacation days roll over"}).json()["properties"][
        "matches"
    ]
    assert q2[0]["document"]["id"] == laptop_id

    assert hub.delete(f"/collections/{cid}/documents/{laptop_id}").status_code == 204
    assert hub.get(f"/collections/{cid}/documents/{laptop_id}").status_code == 404
    assert hub.delete(f"/collections/{cid}/documents").status_code == 204
    assert hub.get(f"/collections/{cid}/documents").json()["items"] == []
    assert hub.delete(f"/collections/{cid}").status_code == 204
    assert hub.get(f"/collections/{cid}").status_code == 404


def test_collection_bad_input_changes_nothing(hub):
    before = len(hub.get("/collections").json()["items"])
    bad_model = {"properties": {"name": "bad-model", "embedding": {"model": CHAT}}}
    assert hub.post("/collections", json=bad_model).status_code == 400
    assert hub.post("/collections", json={"properties": {"name": "x"}}).status_code == 422  # too short
    assert len(hub.get("/collections").json()["items"]) == before
    cid = hub.post("/collections", json={"properties": {"name": "strict-docs"}}).json()["id"]
    not_b64 = {"items": [{"properties": {"name": "n", "contentType": "text/plain", "content": "%%%"}}]}
    r = hub.post(f"/collections/{cid}/documents", json=not_b64)
    assert r.status_code == 422 and "content" in r.text
    good = {"properties": {"name": "ok", "contentType": "text/plain", "content": b64("fine")}}
    half_bad = {"items": [good, not_b64["items"][0]]}
    assert hub.post(f"/collections/{cid}/documents", json=half_bad).status_code == 422
    assert hub.get(f"/collections/{cid}/documents").json()["items"] == []  # all or none
    assert hub.post(f"/collections/{cid}/query", json={"query": ""}).status_code == 422
    assert hub.post("/collections/nope/query", json={"query": "q"}).status_code == 404


def test_served_at_the_real_host_names(emulator, token):
    auth = {"Authorization": f"Bearer {token}"}
    models = http_client().get(
        f"{emulator.url}/v1/models", headers={**auth, "Host": "openai.inference.de-txl.ionos.com"}
    )
    assert models.status_code == 200 and models.json()["object"] == "list"
    colls = http_client().get(f"{emulator.url}/collections", headers={**auth, "Host": "inference.de-txl.ionos.com"})
    assert colls.status_code == 200 and colls.json()["type"] == "collection"
