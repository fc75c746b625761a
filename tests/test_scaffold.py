"""tools/scaffold_product.py: a plain product is one small package plus its compiled spec. The scaffolded
package is served by the engine with no per-operation code, and its answers pass the strict response check."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ionos_emulator import app as app_module
from ionos_emulator.apis import build_apis
from ionos_emulator.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OWNER = ("admin@ionos-emulator.local", "emulator")


@pytest.fixture
def scaffolded(tmp_path, monkeypatch):
    """The Certificate Manager scaffolded into a temporary package, mounted in place of its routed stub."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "scaffold_product.py"),
            "certmanager",
            "--config-name",
            "cert",
            "--package",
            "scaffolded_certmanager",
            "--into",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    source = tmp_path / "scaffolded_certmanager" / "__init__.py"
    spec = importlib.util.spec_from_file_location("ionos_emulator.apis.scaffolded_certmanager", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    mounts = module.PRODUCT.modules()
    apis = [a for a in build_apis() if a.spec_name != "certmanager"] + mounts
    monkeypatch.setattr(app_module, "build_apis", lambda: apis)
    yield source.read_text(), mounts
    del sys.modules[spec.name]


def test_the_package_declares_kinds_only(scaffolded):
    text, mounts = scaffolded
    assert "def " not in text and "handler" not in text.split('"""')[-1]
    crud = [op.id for op in __import__("ionos_emulator.spec", fromlist=["load"]).load("certmanager").operations]
    assert all(op_id in mounts[0].handlers for op_id in crud), "every operation is plain CRUD here"


def test_a_scaffolded_product_serves_crud_through_the_engine(scaffolded, tmp_path):
    _, mounts = scaffolded
    app = app_module.create_app(Settings(data_dir=str(tmp_path / "data"), strict=True, dns_port=0))
    base = mounts[0].prefix
    with TestClient(app) as client:
        r = client.post(
            f"{base}/providers",
            auth=OWNER,
            json={
                "properties": {
                    "name": "letsencrypt",
                    "email": "ops@example.com",
                    "server": "https://acme.example.com/directory",
                }
            },
        )
        assert r.status_code == 201, r.text
        provider = r.json()
        assert provider["properties"]["name"] == "letsencrypt"
        assert provider["href"].endswith(f"{base}/providers/{provider['id']}")
        r = client.patch(f"{base}/providers/{provider['id']}", auth=OWNER, json={"properties": {"name": "renamed"}})
        assert r.status_code == 200 and r.json()["properties"]["name"] == "renamed", r.text
        listed = client.get(f"{base}/providers", auth=OWNER).json()
        assert [p["properties"]["name"] for p in listed["items"]] == ["renamed"]
        assert client.delete(f"{base}/providers/{provider['id']}", auth=OWNER).status_code == 202
        assert client.get(f"{base}/providers/{provider['id']}", auth=OWNER).status_code == 404
        assert app.violations == []
