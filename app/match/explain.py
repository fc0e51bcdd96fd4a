"""Plain-language reasons staff can read back to a member, and why someone was left out."""

from app.match.member import Member
from app.match.offers import OfferTable
from app.match.scoring import Evaluation
from app.vocab import languages

ACCESSIBILITY_WORDS = {
    "ada-access": "wheelchair access",
    "accessible-parking": "accessible parking",
    "accessible-exam-room": "an accessible exam room",
    "accessible-restroom": "an accessible restroom",
    "accessible-equipment": "accessible equipment",
    "public-transit": "public transit nearby",
}
ACCEPTING_WORDS = {
    "accepting": "accepting new patients",
    "existing_only": "sees existing patients only, and you are one",
    "existing_family": "takes existing patients' families, and yours is one",
}


def _language_names(codes) -> str:
    return " and ".join(languages.name(c) for c in codes)


def reasons(member: Member, offer: dict, evaluation: Evaluation, position: int) -> list[str]:
    """Why this offer suits the member, strongest first."""
    return reasons_at(member, offer, float(evaluation.distance[position]))


def reasons_at(member: Member, offer: dict, distance: float) -> list[str]:
    """Why this offer, `distance` miles from the member's home, suits the member."""
    said: list[str] = []
    npi = offer["npi"]
    if npi == member.current_pcp:
        said.append("your current PCP")
    elif npi in member.previous_pcps:
        said.append("your previous PCP")
    relations = [f.relation for f in member.family_pcps if f.npi == npi]
    if relations:
        said.append(f"your {' and '.join(dict.fromkeys(relations))}'s PCP")
    spoken = [c for c in member.languages if c in offer["languages"]]
    staff = [c for c in member.languages if c in offer["location"].get("staff_languages", [])]
    if spoken:
        said.append(f"speaks {_language_names(spoken)}")
    elif staff:
        said.append(f"office staff speak {_language_names(staff)}")
    said.append(f"{distance:.1f} miles from home")
    if member.gender_preference and offer["gender"] == member.gender_preference:
        said.append(f"a {member.gender_preference} doctor, as asked")
    has = [a for a in member.accessibility if a in offer["location"].get("accessibility", [])]
    if has:
        said.append("has " + ", ".join(ACCESSIBILITY_WORDS.get(a, a) for a in has))
    if member.telehealth and offer["location"].get("telehealth"):
        said.append("offers telehealth visits")
    said.append(ACCEPTING_WORDS.get(offer["plan"]["accepting"], offer["plan"]["accepting"]))
    return said


def rule_reason(rule: str, member: Member, offer: dict, distance: float, limit: float) -> str:
    """Why one hard rule rules this offer out, in words."""
    if rule == "plan":
        return f"not in {member.plan} ({member.line_of_business}) at this location"
    if rule == "accepting":
        status = offer["plan"]["accepting"]
        return {
            "not_accepting": "not accepting new patients here",
            "existing_only": "sees existing patients only here",
            "existing_family": "takes only existing patients and their families here",
        }.get(status, status)
    if rule == "age":
        low, high = offer["age_min"], offer["age_max"]
        if not low <= member.age <= high:
            return f"sees patients aged {low} to {high}"
        kinds = ", ".join(offer["pcp_types"]) or "no primary care"
        return f"a {kinds} PCP is not for a member aged {member.age}"
    if rule == "capacity":
        return "panel is full"
    if rule == "distance":
        return f"{distance:.1f} miles from home, beyond the {limit:g}-mile limit"
    return rule


def present_offer(offer: dict) -> dict:
    location = offer["location"]
    plan = offer["plan"]
    return {
        "npi": offer["npi"],
        "name": offer["display_name"],
        "credentials": offer["credentials"],
        "pcp_types": offer["pcp_types"],
        "medical_group": offer["medical_group"],
        "plan_provider_id": plan["plan_provider_id"],
        "plan": {
            "plan": plan["plan"],
            "plan_name": plan.get("plan_name"),
            "line_of_business": plan["line_of_business"],
            "accepting": plan["accepting"],
        },
        "location": {
            name: location.get(name)
            for name in (
                "location_id",
                "name",
                "address",
                "city",
                "state",
                "zip",
                "phone",
                "hours",
                "telehealth",
            )
        },
    }


def present_candidate(
    member: Member, table: OfferTable, evaluation: Evaluation, position: int, rank: int
) -> dict:
    offer = table.rows[evaluation.idx[position]]
    parts = {
        name: round(float(values[position]), 2)
        for name, values in evaluation.points.items()
        if values[position]
    }
    return {
        "rank": rank,
        **present_offer(offer),
        "distance_miles": round(float(evaluation.distance[position]), 3),
        "score": round(float(evaluation.earned[position]), 2),
        "possible": round(evaluation.possible, 2),
        "score_parts": parts,
        "reasons": reasons(member, offer, evaluation, position),
    }


def present_excluded(
    member: Member, table: OfferTable, evaluation: Evaluation, position: int, limit: float
) -> dict:
    offer = table.rows[evaluation.idx[position]]
    distance = float(evaluation.distance[position])
    failed = evaluation.failed(position)
    return {
        **present_offer(offer),
        "distance_miles": round(distance, 3),
        "excluded_by": [
            {"rule": rule, "reason": rule_reason(rule, member, offer, distance, limit)}
            for rule in failed
        ],
    }
