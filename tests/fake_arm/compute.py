"""What `aibc smoke-test` needs: virtual networks' NICs, virtual machines made from a gallery
image version, and Run Command (`POST {vm}/runCommand`).

The fake cannot run scripts; Run Command reads the check lines aibc's script contains
(`Test-Check 'N'` / `check N`) and answers each PASS, or FAIL for the checks the scenario
lists (`"run_command": {"fail": [2], "message": "..."}`), in Run Command's output shape.
"""

from __future__ import annotations

import re

from . import errors, ids
from .providers import Handler

COMPUTE_VERSIONS = ["2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01", "2023-07-01", "2023-03-01"]
NETWORK_VERSIONS = ["2024-10-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01"]

LRO_RESULT = "_lro_result"  # a handler's post() result that the service answers as 202 + Location


class NetworkInterfaces(Handler):
    type = "Microsoft.Network/networkInterfaces"
    versions = NETWORK_VERSIONS

    def validate(self, svc, rid, body, version):
        configs = (body.get("properties") or {}).get("ipConfigurations") or []
        if not configs:
            raise errors.ArmError(400, "InvalidRequestFormat", "Cannot parse the request: a network interface needs "
                                  "at least one IP configuration.")
        for c in configs:
            subnet = ((c.get("properties") or {}).get("subnet") or {}).get("id", "")
            parsed = ids.parse_id(subnet)
            vnet = svc.store.get(parsed.parent.id) if parsed and parsed.parent else None
            names = [s.get("name", "").lower() for s in ((vnet.body.get("properties") or {}).get("subnets") or [])] \
                if vnet else []
            if vnet is None or (parsed.leaf_name.lower() not in names and svc.store.get(subnet) is None):
                raise errors.ArmError(400, "InvalidResourceReference",
                                      f"Resource {subnet} referenced by resource {rid.id} was not found.")

    def build(self, svc, rid, new, existing):
        body = super().build(svc, rid, new, existing)
        for i, c in enumerate(body["properties"].get("ipConfigurations", [])):
            c.setdefault("properties", {})["privateIPAddress"] = f"10.250.0.{4 + i}"
        return body


class VirtualMachines(Handler):
    type = "Microsoft.Compute/virtualMachines"
    versions = COMPUTE_VERSIONS
    put_lro = "async"
    in_progress_state = "Creating"

    def validate(self, svc, rid, body, version):
        props = body.get("properties") or {}
        image = ((props.get("storageProfile") or {}).get("imageReference") or {}).get("id")
        if not image or svc.store.get(image) is None:
            raise errors.ArmError(404, "GalleryImageNotFound",
                                  f"The gallery image {image} is not available in {body.get('location')} region. "
                                  "Please contact image owner to replicate to this region, or change your "
                                  "requested region.")
        os_profile = props.get("osProfile") or {}
        if not os_profile.get("adminUsername") or not os_profile.get("adminPassword"):
            raise errors.ArmError(400, "InvalidParameter", "Required parameter 'adminPassword' is missing (null).",
                                  target="adminPassword")
        nics = (props.get("networkProfile") or {}).get("networkInterfaces") or []
        for nic in nics:
            if svc.store.get(nic.get("id", "")) is None:
                raise errors.ArmError(400, "InvalidResourceReference",
                                      f"Resource {nic.get('id')} referenced by resource {rid.id} was not found.")
        if not (props.get("hardwareProfile") or {}).get("vmSize"):
            raise errors.ArmError(400, "InvalidParameter", "The value of parameter vmSize is invalid.",
                                  target="vmSize")

    def build(self, svc, rid, new, existing):
        body = super().build(svc, rid, new, existing)
        body["properties"].get("osProfile", {}).pop("adminPassword", None)  # never returned by ARM
        body["properties"]["vmId"] = rid.leaf_name + "-0000"
        return body

    def normalise(self, svc, rid, body):
        return super().normalise(svc, rid, body)

    def post(self, svc, res, action, body, version):
        if action.lower() != "runcommand":
            return super().post(svc, res, action, body, version)
        if not isinstance(body, dict) or body.get("commandId") not in ("RunShellScript", "RunPowerShellScript"):
            raise errors.ArmError(400, "InvalidParameter", "The value of parameter commandId is invalid.")
        script = "\n".join(body.get("script") or [])
        numbers = re.findall(r"^(?:Test-Check '(\d+)'|check (\d+)) ", script, flags=re.M)
        spec = svc.scenario.get("run_command", {})
        failing = {str(n) for n in spec.get("fail", [])}
        lines = []
        for a, b in numbers:
            n = a or b
            lines.append(f"AIBC-CHECK {n} FAIL {spec.get('message', 'scripted failure')}" if n in failing
                         else f"AIBC-CHECK {n} PASS")
        svc.log({"method": "RUNCOMMAND", "path": res.id, "query": {}, "source": "fake", "body": {"script": script},
                 "changed": None, "status": 200})
        if body["commandId"] == "RunShellScript":
            value = [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                      "message": "Enable succeeded: \n[stdout]\n" + "\n".join(lines) + "\n\n[stderr]\n"}]
        else:
            value = [{"code": "ComponentStatus/StdOut/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                      "message": "\n".join(lines)},
                     {"code": "ComponentStatus/StdErr/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded",
                      "message": ""}]
        return {LRO_RESULT: {"value": value}}
