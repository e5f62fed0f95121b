"""Testcontainers for Python: synthflow-mock in a pytest fixture.

pip install testcontainers pytest
Build the image first: docker build -t synthflow-mock:local .
"""

import json
import time
import urllib.request

import pytest
from testcontainers.core.container import DockerContainer

IMAGE = "synthflow-mock:local"
PORT = 8080
HEALTH_PATH = "/healthz"


def wait_for_health(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def synthflow_base_url():
    with DockerContainer(IMAGE).with_exposed_ports(PORT) as container:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(PORT)
        wait_for_health(f"http://{host}:{port}{HEALTH_PATH}")
        yield f"http://{host}:{port}/v2"


def test_get_call(synthflow_base_url):
    request = urllib.request.Request(
        f"{synthflow_base_url}/calls/3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0",
        headers={"Authorization": "Bearer any-token"},
    )
    with urllib.request.urlopen(request) as response:
        body = json.load(response)
    assert body["response"]["calls"][0]["call_id"] == "3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0"
