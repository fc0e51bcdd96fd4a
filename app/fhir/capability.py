"""The CapabilityStatement of `/fhir`, made from the parameter table so that it always says what
the server does."""

from app.fhir import params as P

PLANNET_CAPABILITY = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CapabilityStatement/plan-net"
BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
RELEASED = "2026-12-01"
COMMON_PARAMS = (
    {
        "name": "_id",
        "definition": "http://hl7.org/fhir/SearchParameter/Resource-id",
        "type": "token",
        "documentation": "Logical id of the resource",
    },
    {
        "name": "_lastUpdated",
        "definition": "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
        "type": "date",
        "documentation": "When the resource last changed (prefixes eq ne gt lt ge le sa eb ap)",
    },
)


def _search_param(param: P.Param) -> dict:
    documentation = param.description
    if param.chains:
        documentation += f". Chains: {', '.join(param.chains)}"
    if param.custom:
        documentation = f"Custom (not in Plan-Net). {documentation}"
    return {
        "name": param.name,
        "definition": param.definition,
        "type": "special" if param.type == P.SPECIAL else param.type,
        "documentation": documentation,
    }


def capability_statement(base: str) -> dict:
    resources = []
    for kind in P.RESOURCE_TYPES:
        resources.append(
            {
                "type": kind,
                "supportedProfile": list(P.PROFILES[kind]),
                "interaction": [{"code": c} for c in ("read", "vread", "search-type")],
                "versioning": "versioned",
                "readHistory": False,
                "conditionalRead": "full-support",
                "searchInclude": list(P.INCLUDES[kind]),
                "searchRevInclude": list(P.REVINCLUDES[kind]),
                "searchParam": [
                    *COMMON_PARAMS,
                    *(_search_param(p) for p in P.BY_RESOURCE[kind].values()),
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "Provider Directory",
        "kind": "instance",
        "instantiates": [PLANNET_CAPABILITY],
        "software": {"name": "Provider Directory"},
        "implementation": {"description": "Provider directory (Plan-Net)", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Public and read-only. Strict handling: an unknown parameter is a 400 "
                    "OperationOutcome unless the request says Prefer: handling=lenient. "
                    "Paging with _count (up to 200) and the next/previous links."
                ),
                "resource": resources,
                "operation": [{"name": "export", "definition": BULK_EXPORT}],
            }
        ],
    }
