"""Service IPs and node ports, refusals of taken ones, and immutable fields."""

from __future__ import annotations

import ipaddress
from typing import Any

from strongroom.sandbox import server
from tests.sandbox.api import Api

SVCS = "/api/v1/namespaces/default/services"


def service(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}


def test_cluster_ip_is_allocated_from_the_range(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, svc = api.post(SVCS, service("web"))
    assert code == 201
    ip = ipaddress.ip_address(svc["spec"]["clusterIP"])
    assert ip in ipaddress.ip_network("10.43.0.0/16")
    assert svc["spec"]["clusterIPs"] == [str(ip)]
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    _, other = api.post(SVCS, service("api"))
    assert other["spec"]["clusterIP"] != svc["spec"]["clusterIP"]


def test_headless_service_gets_no_ip(sandbox: server.Sandbox) -> None:
    code, svc = Api(sandbox.url).post(SVCS, service("db", clusterIP="None"))
    assert code == 201 and svc["spec"]["clusterIP"] == "None"


def test_requested_ip_taken_or_out_of_range_is_422(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, svc = api.post(SVCS, service("a", clusterIP="10.43.7.7"))
    assert code == 201 and svc["spec"]["clusterIP"] == "10.43.7.7"
    code, status = api.post(SVCS, service("b", clusterIP="10.43.7.7"))
    assert code == 422 and status["reason"] == "Invalid"
    assert "provided IP is already allocated" in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.clusterIPs"
    code, status = api.post(SVCS, service("c", clusterIP="10.0.0.5"))
    assert code == 422 and "not in the valid range" in status["message"]
    code, status = api.post(SVCS, service("k", clusterIP="10.43.0.1"))
    assert code == 422, "the kubernetes service holds 10.43.0.1"
    api.delete(f"{SVCS}/a")
    assert api.post(SVCS, service("b", clusterIP="10.43.7.7"))[0] == 201, "deleting frees the IP"


def test_node_ports(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, svc = api.post(SVCS, service("np", type="NodePort"))
    assert code == 201
    port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
    taken = service("np2", type="NodePort")
    taken["spec"]["ports"][0]["nodePort"] = port
    code, status = api.post(SVCS, taken)
    assert code == 422 and "provided port is already allocated" in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.ports[0].nodePort"
    taken["spec"]["ports"][0]["nodePort"] = 80
    code, status = api.post(SVCS, taken)
    assert code == 422 and "30000-32767" in status["message"]
    lb = service("lb", type="LoadBalancer")
    code, svc = api.post(SVCS, lb)
    assert code == 201 and svc["spec"]["ports"][0]["nodePort"]
    code, status = api.post(
        SVCS, {"metadata": {"name": "x"}, "spec": {"ports": [{"port": 1, "nodePort": 30001}]}}
    )
    assert code == 422 and "may not be used" in status["message"]


def test_cluster_ip_is_immutable_and_kept_when_omitted(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, svc = api.post(SVCS, service("web", type="NodePort"))
    ip = svc["spec"]["clusterIP"]
    node_port = svc["spec"]["ports"][0]["nodePort"]
    changed = dict(svc, spec=dict(svc["spec"], clusterIP="10.43.99.99", clusterIPs=["10.43.99.99"]))
    code, status = api.put(f"{SVCS}/web", changed)
    assert code == 422 and "may not change once set" in status["message"]
    bare = {"metadata": {"name": "web"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    code, kept = api.put(f"{SVCS}/web", bare)
    assert code == 200 and kept["spec"]["clusterIP"] == ip
    assert kept["spec"]["ports"][0]["nodePort"] == node_port


def test_service_needs_ports(sandbox: server.Sandbox) -> None:
    code, status = Api(sandbox.url).post(SVCS, {"metadata": {"name": "x"}, "spec": {}})
    assert code == 422 and status["details"]["causes"][0]["field"] == "spec.ports"


def pvc(name: str, size: str = "1Gi") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def test_pvc_spec_immutable_except_requests_when_bound(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    path = "/api/v1/namespaces/default/persistentvolumeclaims"
    code, claim = api.post(path, pvc("data"))
    assert code == 201 and claim["status"] == {"phase": "Pending"}
    code, status = api.patch(f"{path}/data", {"spec": {"accessModes": ["ReadWriteMany"]}})
    assert code == 422 and "spec is immutable after creation" in status["message"]
    code, bound = api.patch(f"{path}/data", {"spec": {"volumeName": "pv-1"}})
    assert code == 200 and bound["spec"]["volumeName"] == "pv-1"
    code, grown = api.patch(
        f"{path}/data", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    )
    assert code == 200 and grown["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert api.patch(f"{path}/data", {"spec": {"volumeName": "pv-2"}})[0] == 422


def test_immutable_configmap_and_secret_type(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    path = "/api/v1/namespaces/default/configmaps"
    api.post(path, {"metadata": {"name": "frozen"}, "data": {"a": "1"}, "immutable": True})
    code, status = api.patch(f"{path}/frozen", {"data": {"a": "2"}})
    assert code == 422 and "immutable" in status["message"]
    assert api.patch(f"{path}/frozen", {"metadata": {"labels": {"x": "y"}}})[0] == 200
    secrets = "/api/v1/namespaces/default/secrets"
    code, secret = api.post(secrets, {"metadata": {"name": "s"}, "stringData": {"a": "b"}})
    assert code == 201 and secret["type"] == "Opaque"
    assert api.patch(f"{secrets}/s", {"type": "kubernetes.io/tls"})[0] == 422


def test_workload_selector_rules(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    path = "/apis/apps/v1/namespaces/default/deployments"
    dep = {
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    code, status = api.post(path, dep)
    assert code == 422 and "`selector` does not match template `labels`" in status["message"]
    dep["spec"]["template"]["metadata"]["labels"] = {"app": "d"}
    assert api.post(path, dep)[0] == 201
    patch = {
        "spec": {
            "selector": {"matchLabels": {"app": "e"}},
            "template": {"metadata": {"labels": {"app": "e"}}},
        }
    }
    code, status = api.patch(f"{path}/d", patch)
    assert code == 422 and "field is immutable" in status["message"]


def test_status_is_reset_on_create_and_kept_on_update(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    path = "/api/v1/namespaces/default/pods"
    pod = {
        "metadata": {"name": "p"},
        # bound to a node the sandbox does not have: no kubelet changes its status meanwhile
        "spec": {"containers": [{"name": "c", "image": "i"}], "nodeName": "elsewhere"},
        "status": {"phase": "Running", "podIP": "10.42.0.9"},
    }
    code, created = api.post(path, pod)
    assert code == 201 and created["status"] == {"phase": "Pending"}
    created["status"] = {"phase": "Succeeded"}
    _, updated = api.put(f"{path}/p", created)
    assert updated["status"] == {"phase": "Pending"}
    code, patched = api.patch(f"{path}/p/status", {"status": {"phase": "Running"}})
    assert code == 200 and patched["status"]["phase"] == "Running"
    assert patched["spec"] == created["spec"]


def test_external_name_services_get_no_ip(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    body = {
        "metadata": {"name": "ext"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    code, svc = api.post(SVCS, body)
    assert code == 201 and "clusterIP" not in svc["spec"]
    code, status = api.post(SVCS, {"metadata": {"name": "bad"}, "spec": {"type": "ExternalName"}})
    assert code == 422 and status["details"]["causes"][0]["field"] == "spec.externalName"


def test_config_data_is_limited_to_one_mebibyte(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    big = {"metadata": {"name": "big"}, "data": {"blob": "x" * (1024 * 1024 + 1)}}
    code, status = api.post("/api/v1/namespaces/default/configmaps", big)
    assert code == 422 and "Too long: must have at most 1048576 bytes" in status["message"]
    fits = {"metadata": {"name": "fits"}, "data": {"blob": "x" * (1024 * 1024 - 100)}}
    assert api.post("/api/v1/namespaces/default/configmaps", fits)[0] == 201
