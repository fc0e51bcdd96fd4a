"""The `/fhir` resources the fixture roster should give, restated from the CSV with plain code.

Independent of the code under test on purpose: nothing here comes from `app.fhir` or `indexer`.
The rules it restates:

- one provider per NPI; its own values (gender, languages, medical group) come from its newest
  row (latest `last_updated`; on a tie the first in (location, plan, line) order), an empty
  value filled from the next row that has one;
- ids: Practitioner and provider Organization `<npi>`, Location `<location_id>`, network
  Organization `network-<plan>`, InsurancePlan `<plan>`, medical group `group-<slug>`,
  PractitionerRole / OrganizationAffiliation `<npi>-<location>-<plan>` (`<npi>-<location>` where
  the provider has no plan), an organization's HealthcareService `<npi>-<location>`, the service
  practitioners share `<location>-<virtual|inperson>[-<staff language>...]` when the location
  offers video visits or names its staff's languages;
- `meta.lastUpdated`: the newest `last_updated` of the rows a resource is made of.
"""

import csv
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROSTER = Path(__file__).resolve().parents[1] / "fixtures" / "roster.csv"

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
BCP47_SYSTEM = "urn:ietf:bcp:47"
PLANNET_CS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/"
ORG_TYPE_SYSTEM = PLANNET_CS + "OrgTypeCS"
SERVICE_CATEGORY_SYSTEM = PLANNET_CS + "HealthcareServiceCategoryCS"

# Language names the roster writes instead of BCP-47 tags.
LANGUAGE_TAGS = {
    "Arabic": "ar",
    "Armenian": "hy",
    "Chinese": "zh",
    "English": "en",
    "French": "fr",
    "Gujarati": "gu",
    "Hindi": "hi",
    "Khmer": "km",
    "Korean": "ko",
    "Persian": "fa",
    "Russian": "ru",
    "Spanish": "es",
    "Tagalog": "tl",
    "Ukrainian": "uk",
    "Vietnamese": "vi",
}
# Plan-Net codes by the roster's entity type.
SERVICE_CATEGORY = {
    "practitioner": "prov",
    "urgent_care": "urg",
    "hospital": "hosp",
    "pharmacy": "pharm",
    "lab": "lab",
}
AFFILIATION_ROLE = {
    "urgent_care": "urgent",
    "hospital": "hospital",
    "pharmacy": "pharmacy",
    "lab": "laboratory",
}
NEW_PATIENT_CODE = {
    "accepting": "newpt",
    "not_accepting": "nopt",
    "existing_only": "existptonly",
    "existing_family": "existptfam",
}
GENDER_CODE = {"female": "female", "male": "male", "nonbinary": "other", "": "unknown"}


def fold(text: str) -> str:
    """Lower case without accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slug(text: str) -> str:
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in fold(text))
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def language_tags(cell: str) -> tuple[str, ...]:
    tags = [LANGUAGE_TAGS.get(part, part) for part in cell.split("|") if part]
    unknown = [t for t in tags if not (t.isascii() and t.islower() and len(t) <= 3)]
    if unknown:
        raise ValueError(f"the oracle does not know the languages {unknown}")
    return tuple(dict.fromkeys(tags))


@dataclass
class Row:
    line: int
    cells: dict

    def __getitem__(self, name: str) -> str:
        return self.cells[name]


@dataclass
class Provider:
    npi: str
    kind: str  # the roster's entity type
    rows: list[Row]
    first: str
    middle: str
    last: str
    organization: str
    credentials: str
    gender: str
    taxonomy: tuple[str, ...]
    languages: tuple[str, ...]
    group: str

    @property
    def practitioner(self) -> bool:
        return self.kind == "practitioner"

    @property
    def updated(self) -> str:
        return max(r["last_updated"] for r in self.rows)

    @property
    def display(self) -> str:
        if not self.practitioner:
            return self.organization
        name = " ".join(p for p in (self.first, self.middle, self.last) if p)
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def name_parts(self) -> list[str]:
        """What Practitioner `name` searches: text, family, given and suffix (credentials)."""
        suffixes = [c.strip() for c in self.credentials.split(",") if c.strip()]
        parts = [self.display, self.last, self.first, self.middle, *suffixes]
        return [p for p in parts if p]


@dataclass
class Listing:
    """A provider at a location in one plan (or none): a PractitionerRole or an
    OrganizationAffiliation."""

    id: str
    npi: str
    location: str
    plan: str
    accepting: str
    plan_provider_id: str
    updated: str


@dataclass
class Place:
    id: str
    name: str
    address: str
    city: str
    state: str
    postal_code: str
    lat: float | None  # None: the roster leaves the place to be located from its address
    lon: float | None
    updated: str = ""


@dataclass
class Oracle:
    providers: dict[str, Provider] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    listings: dict[str, Listing] = field(default_factory=dict)
    plans: dict[str, dict] = field(default_factory=dict)  # code -> name, updated
    groups: dict[str, dict] = field(default_factory=dict)  # id -> name, updated
    # HealthcareService id -> location, owner (an organization's NPI, "" when shared by
    # practitioners), updated
    services: dict[str, dict] = field(default_factory=dict)
    service_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (npi, loc) -> id

    # -- ids by resource type ----------------------------------------------------------------
    def practitioners(self) -> dict[str, Provider]:
        return {p.npi: p for p in self.providers.values() if p.practitioner}

    def organizations(self) -> dict[str, Provider]:
        return {p.npi: p for p in self.providers.values() if not p.practitioner}

    def roles(self) -> dict[str, Listing]:
        return {k: v for k, v in self.listings.items() if self.providers[v.npi].practitioner}

    def affiliations(self) -> dict[str, Listing]:
        return {k: v for k, v in self.listings.items() if not self.providers[v.npi].practitioner}

    def ids(self, kind: str) -> set[str]:
        return set(self.updated(kind))

    def updated(self, kind: str) -> dict[str, str]:
        """Each resource's id -> its lastUpdated day."""
        if kind == "Practitioner":
            return {n: p.updated for n, p in self.practitioners().items()}
        if kind == "Organization":
            found = {n: p.updated for n, p in self.organizations().items()}
            found.update({network_id(c): p["updated"] for c, p in self.plans.items()})
            found.update({g: p["updated"] for g, p in self.groups.items()})
            return found
        if kind == "Location":
            return {i: p.updated for i, p in self.places.items()}
        if kind == "PractitionerRole":
            return {i: r.updated for i, r in self.roles().items()}
        if kind == "OrganizationAffiliation":
            return {i: r.updated for i, r in self.affiliations().items()}
        if kind == "HealthcareService":
            return {i: s["updated"] for i, s in self.services.items()}
        if kind == "InsurancePlan":
            return {c: p["updated"] for c, p in self.plans.items()}
        if kind == "Endpoint":
            return {}
        raise KeyError(kind)


def network_id(plan: str) -> str:
    return f"network-{plan}"


def group_id(name: str) -> str:
    return f"group-{slug(name)}"


def _newest_first(rows: list[Row]) -> list[Row]:
    in_key_order = sorted(rows, key=lambda r: (r["location_id"], r["plan"], r.line))
    return sorted(in_key_order, key=lambda r: r["last_updated"], reverse=True)


def _provider(npi: str, rows: list[Row]) -> Provider:
    ordered = _newest_first(rows)

    def value(name: str) -> str:
        return next((r[name] for r in ordered if r[name]), "")

    return Provider(
        npi=npi,
        kind=ordered[0]["entity_type"],
        rows=rows,
        first=value("first_name"),
        middle=value("middle_name"),
        last=value("last_name"),
        organization=value("organization_name"),
        credentials=value("credentials"),
        gender=value("gender"),
        taxonomy=tuple(value("taxonomy_codes").split("|")),
        languages=language_tags(value("languages")),
        group=value("medical_group"),
    )


def load(path: Path = ROSTER) -> Oracle:
    oracle = Oracle()
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [Row(line, cells) for line, cells in enumerate(csv.DictReader(fh), start=2)]
    by_npi: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_npi[row["npi"]].append(row)
    for npi, own in by_npi.items():
        oracle.providers[npi] = provider = _provider(npi, own)
        if provider.practitioner and provider.group:
            group = oracle.groups.setdefault(
                group_id(provider.group), {"name": provider.group, "updated": ""}
            )
            group["updated"] = max(group["updated"], provider.updated)
        planned = {r["location_id"] for r in own if r["plan"]}
        for row in own:
            if not row["plan"] and row["location_id"] in planned:
                continue  # listed there with plans too: the plan roles say it
            # A listing without a plan dates from the provider's newest row.
            day = row["last_updated"] if row["plan"] else provider.updated
            parts = [npi, row["location_id"], *([row["plan"]] if row["plan"] else [])]
            oracle.listings["-".join(parts)] = Listing(
                id="-".join(parts),
                npi=npi,
                location=row["location_id"],
                plan=row["plan"],
                accepting=row["accepting_new_patients"],
                plan_provider_id=row["plan_provider_id"],
                updated=day,
            )
            _add_place(oracle, row, day)
            _add_service(oracle, provider, row, day)
        for row in own:
            if row["plan"]:
                plan = oracle.plans.setdefault(
                    row["plan"],
                    {
                        "name": row["plan_name"],
                        "line_of_business": row["line_of_business"],
                        "updated": "",
                    },
                )
                plan["updated"] = max(plan["updated"], row["last_updated"])
    return oracle


def _add_place(oracle: Oracle, row: Row, day: str) -> None:
    place = oracle.places.setdefault(
        row["location_id"],
        Place(
            id=row["location_id"],
            name=row["location_name"],
            address=row["address"],
            city=row["city"],
            state=row["state"],
            postal_code=row["zip"],
            lat=float(row["latitude"]) if row["latitude"] else None,
            lon=float(row["longitude"]) if row["longitude"] else None,
        ),
    )
    place.updated = max(place.updated, day)


def _add_service(oracle: Oracle, provider: Provider, row: Row, day: str) -> None:
    location, virtual = row["location_id"], row["telehealth"] == "Y"
    if provider.practitioner:
        staff = language_tags(row["staff_languages"])
        if not virtual and not staff:
            return
        service = "-".join([location, "virtual" if virtual else "inperson", *staff])
    else:
        service = f"{provider.npi}-{location}"
    owner = "" if provider.practitioner else provider.npi
    entry = oracle.services.setdefault(
        service, {"location": location, "owner": owner, "updated": ""}
    )
    entry["updated"] = max(entry["updated"], day)
    oracle.service_of[(provider.npi, location)] = service
