"""HL7 Da Vinci PDex Plan-Net (FHIR R4) vocabulary: profile and extension URLs, code systems, and
the Plan-Net codes the directory's own values map onto, in both directions.

Read by `indexer/sources/plannet.py` (Plan-Net in) and written by `app/fhir/resources.py`
(Plan-Net out); the tests check that every code written reads back to the value it came from.
"""

from app.vocab.codes import ACCEPTING_ALIASES

PLANNET_SD = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
PLANNET_CS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/"

# Extensions.
NEWPATIENTS = PLANNET_SD + "newpatients"
NETWORK_REFERENCE = PLANNET_SD + "network-reference"
ACCESSIBILITY = PLANNET_SD + "accessibility"
DELIVERY_METHOD = PLANNET_SD + "delivery-method"
COMMUNICATION_PROFICIENCY = PLANNET_SD + "communication-proficiency"
# A required element whose value the directory does not know (FHIR core extension).
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

# Profiles, by the role a resource plays.
PRACTITIONER_PROFILE = PLANNET_SD + "plannet-Practitioner"
PRACTITIONER_ROLE_PROFILE = PLANNET_SD + "plannet-PractitionerRole"
ORGANIZATION_PROFILE = PLANNET_SD + "plannet-Organization"
NETWORK_PROFILE = PLANNET_SD + "plannet-Network"
INSURANCE_PLAN_PROFILE = PLANNET_SD + "plannet-InsurancePlan"
LOCATION_PROFILE = PLANNET_SD + "plannet-Location"
HEALTHCARE_SERVICE_PROFILE = PLANNET_SD + "plannet-HealthcareService"
ORGANIZATION_AFFILIATION_PROFILE = PLANNET_SD + "plannet-OrganizationAffiliation"

# Identifier and code systems outside Plan-Net.
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
BCP47_SYSTEM = "urn:ietf:bcp:47"
DEGREE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0360"
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
MEDICAL_LICENSE_TYPE = "MD"  # v2-0203: Medical License number

# Plan-Net code systems.
ACCEPTING_PATIENTS_SYSTEM = PLANNET_CS + "AcceptingPatientsCS"
ACCESSIBILITY_SYSTEM = PLANNET_CS + "AccessibilityCS"
DELIVERY_METHOD_SYSTEM = PLANNET_CS + "DeliveryMethodCS"
ORG_TYPE_SYSTEM = PLANNET_CS + "OrgTypeCS"
INSURANCE_PRODUCT_TYPE_SYSTEM = PLANNET_CS + "InsuranceProductTypeCS"
HEALTHCARE_SERVICE_CATEGORY_SYSTEM = PLANNET_CS + "HealthcareServiceCategoryCS"
AFFILIATION_ROLE_SYSTEM = PLANNET_CS + "OrganizationAffiliationRoleCS"
PROVIDER_ROLE_SYSTEM = PLANNET_CS + "ProviderRoleCS"

# --- accepting new patients (`newpatients.acceptingPatients`) ----------------------------------

NEWPATIENTS_CODES = ("newpt", "nopt", "existptonly", "existptfam")
ACCEPTING = {code: ACCEPTING_ALIASES[code] for code in NEWPATIENTS_CODES}
NEWPATIENTS_CODE_OF = {status: code for code, status in ACCEPTING.items()}
NEWPATIENTS_DISPLAYS = {
    "newpt": "Accepting",
    "nopt": "Not Accepting",
    "existptonly": "Accepting existing patients",
    "existptfam": "Accepting existing patients and their families",
}

# --- accessibility ---------------------------------------------------------------------------

# Plan-Net code -> the directory's value (two Plan-Net codes mean wheelchair access).
ACCESSIBILITY_CODES = {
    "handiaccess": "ada-access",
    "adacomp": "ada-access",
    "pubtrans": "public-transit",
    "cultcomp": "cultural-competence",
}
# The directory's value -> the Plan-Net code written for it.
ACCESSIBILITY_CODE_OF = {
    "ada-access": "adacomp",
    "public-transit": "pubtrans",
    "cultural-competence": "cultcomp",
}
ACCESSIBILITY_DISPLAYS = {
    "adacomp": "ADA compliant",
    "pubtrans": "public transit options",
    "cultcomp": "Cultural competence",
}
# Values Plan-Net has no code for: written as text (the binding is extensible), not read back.
ACCESSIBILITY_TEXTS = {
    "accessible-parking": "Accessible parking",
    "accessible-exam-room": "Accessible exam room",
    "tty": "TTY",
}

# Communication proficiency codes below which a language is not counted as spoken.
LOW_PROFICIENCY = frozenset({"00", "10"})

# --- health plans ----------------------------------------------------------------------------

# InsurancePlan.type code (InsuranceProductTypeCS, and a few older spellings) -> line of business.
LINE_OF_BUSINESS_CODES = {
    "medi": "medi-cal",
    "medihmo": "medi-cal",
    "mcaid": "medi-cal",
    "mediadv": "medicare-advantage",
    "mediadvhmo": "medicare-advantage",
    "mcare": "medicare-advantage",
    "qhp": "covered-california",
    "commppo": "commercial",
    "commhmo": "commercial",
    "commepo": "commercial",
    "commpos": "commercial",
    "commhdhp": "commercial",
}
# Line of business -> the product type written; the plan's name may say which kind of product a
# commercial plan is, or that a public plan is an HMO.
PRODUCT_TYPE_OF = {
    "medi-cal": "medi",
    "medicare-advantage": "mediadv",
    "covered-california": "qhp",
}
HMO_PRODUCT_TYPES = {"medi": "medihmo", "mediadv": "mediadvhmo"}
COMMERCIAL_PRODUCT_WORDS = {
    "hmo": "commhmo",
    "ppo": "commppo",
    "epo": "commepo",
    "pos": "commpos",
    "hdhp": "commhdhp",
}
PRODUCT_TYPE_DISPLAYS = {
    "medi": "Medicaid",
    "medihmo": "Medicaid HMO",
    "mediadv": "Medicare Advantage",
    "mediadvhmo": "Medicare Advantage HMO",
    "qhp": "Qualified Health Plan",
    "commppo": "Commercial PPO",
    "commhmo": "Commercial HMO",
    "commepo": "Commercial EPO",
    "commpos": "Commercial POS",
    "commhdhp": "Commercial HDHP",
}
# A commercial plan whose name names no product kind is written as text the reader reads back.
COMMERCIAL_TEXT = "Commercial"

# --- organizations and services --------------------------------------------------------------

NETWORK_TYPE = ("ntwk", "Network")
PROVIDER_GROUP_TYPE = ("prvgrp", "Provider Group")
FACILITY_TYPE = ("fac", "Facility")
# The directory's entity type -> Plan-Net's code and display for that kind of organization.
AFFILIATION_ROLES = {
    "clinic": ("outpatient", "Clinic or Outpatient Facility"),
    "urgent_care": ("urgent", "Urgent Care Center"),
    "hospital": ("hospital", "Hospital"),
    "pharmacy": ("pharmacy", "Pharmacy"),
    "lab": ("laboratory", "Laboratory"),
    "other": ("other", "Other"),
}
SERVICE_CATEGORIES = {
    "practitioner": ("prov", "Medical Provider"),
    "clinic": ("outpat", "Clinic or Outpatient Facility"),
    "urgent_care": ("urg", "Urgent Care"),
    "hospital": ("hosp", "Hospital"),
    "pharmacy": ("pharm", "Pharmacy"),
    "lab": ("lab", "Laboratory"),
    "other": ("other", "Other"),
}
DELIVERY_METHODS = {True: ("virtual", "Virtual"), False: ("physical", "Physical")}

# --- practitioner roles (ProviderRoleCS) -------------------------------------------------------

# The NUCC classification, then grouping, of a practitioner's primary specialty -> role code.
PROVIDER_ROLES_BY_CLASSIFICATION = {
    "Physician Assistant": ("pa", "Physician Assistant"),
    "Nurse Practitioner": ("apn", "Advanced Practice Nursing Providers"),
    "Optometrist": ("oo", "Optometrist"),
    "Psychologist": ("py", "Psychologist"),
    "Physical Therapist": ("pt", "Physical Therapist"),
    "Occupational Therapist": ("ot", "Occupational Therapist"),
    "Social Worker": ("sw", "Social Worker"),
    "Counselor": ("co", "Counselor"),
    "Marriage & Family Therapist": ("mt", "Marriage/Family Therapist"),
    "Podiatrist": ("po", "Podiatrist"),
    "Dentist": ("de", "Dentist"),
    "Audiologist": ("au", "Audiologist"),
    "Registered Nurse": ("rn", "Registered Nurse"),
}
PROVIDER_ROLES_BY_GROUPING = {
    "Allopathic & Osteopathic Physicians": ("ph", "Physician"),
    "Physician Assistants & Advanced Practice Nursing Providers": (
        "apn",
        "Advanced Practice Nursing Providers",
    ),
    "Behavioral Health & Social Service Providers": (
        "bh",
        "Behavioral Health & Social Service Providers",
    ),
    "Chiropractic Providers": ("ch", "Chiropractor"),
    "Dental Providers": ("dp", "Dental Provider"),
    "Podiatric Medicine & Surgery Service Providers": ("po", "Podiatrist"),
    "Pharmacy Service Providers": ("rx", "Pharmacy Service Providers"),
    "Speech, Language and Hearing Service Providers": (
        "sh",
        "Speech, Language and Hearing Service Providers",
    ),
    "Dietary & Nutritional Service Providers": (
        "dn",
        "Dietary and Nutritional Service Provider",
    ),
    "Nursing Service Providers": ("nu", "Nursing Service Related Providers"),
    "Nursing Service Related Providers": ("nu", "Nursing Service Related Providers"),
    "Emergency Medical Service Providers": ("em", "Emergency Medical Service Provider"),
    "Respiratory, Developmental, Rehabilitative and Restorative Service Providers": (
        "drr",
        "Developmental, Rehabilitative and Restorative Service Providers",
    ),
    "Technologists, Technicians & Other Technical Service Providers": (
        "te",
        "Technologists, Technicians and Other Technical Service Providers",
    ),
}
OTHER_PROVIDER_ROLE = ("os", "Other Service Provider")
