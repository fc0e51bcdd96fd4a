"""Real file shapes for layout tests: the NPPES and CMS headers as the files write them, and
small helpers to write rows of them (each row made of the file's own columns)."""

import csv
from pathlib import Path

# The NPPES Data Dissemination file (npidata_pfile), 329 columns in the order the file has them.
_NPPES_NAMES = [
    "NPI",
    "Entity Type Code",
    "Replacement NPI",
    "Employer Identification Number (EIN)",
    "Provider Organization Name (Legal Business Name)",
    "Provider Last Name (Legal Name)",
    "Provider First Name",
    "Provider Middle Name",
    "Provider Name Prefix Text",
    "Provider Name Suffix Text",
    "Provider Credential Text",
    "Provider Other Organization Name",
    "Provider Other Organization Name Type Code",
    "Provider Other Last Name",
    "Provider Other First Name",
    "Provider Other Middle Name",
    "Provider Other Name Prefix Text",
    "Provider Other Name Suffix Text",
    "Provider Other Credential Text",
    "Provider Other Last Name Type Code",
]
_MAILING = "Provider Business Mailing Address"
_PRACTICE = "Provider Business Practice Location Address"
_ADDRESS = [
    "Provider First Line Business {}",
    "Provider Second Line Business {}",
    "Provider Business {} City Name",
    "Provider Business {} State Name",
    "Provider Business {} Postal Code",
    "Provider Business {} Country Code (If outside U.S.)",
    "Provider Business {} Telephone Number",
    "Provider Business {} Fax Number",
]
NPPES_HEADER: tuple[str, ...] = tuple(
    [
        *_NPPES_NAMES,
        *(a.format(_MAILING.removeprefix("Provider Business ")) for a in _ADDRESS),
        *(a.format(_PRACTICE.removeprefix("Provider Business ")) for a in _ADDRESS),
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Gender Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
        *(
            name
            for n in range(1, 16)
            for name in (
                f"Healthcare Provider Taxonomy Code_{n}",
                f"Provider License Number_{n}",
                f"Provider License Number State Code_{n}",
                f"Healthcare Provider Primary Taxonomy Switch_{n}",
            )
        ),
        *(
            name
            for n in range(1, 51)
            for name in (
                f"Other Provider Identifier_{n}",
                f"Other Provider Identifier Type Code_{n}",
                f"Other Provider Identifier State_{n}",
                f"Other Provider Identifier Issuer_{n}",
            )
        ),
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
        *(f"Healthcare Provider Taxonomy Group_{n}" for n in range(1, 16)),
    ]
)
assert len(NPPES_HEADER) == 329 and len(set(NPPES_HEADER)) == 329

PRACTICE = {
    "line1": f"Provider First Line Business {_PRACTICE.removeprefix('Provider Business ')}",
    "line2": f"Provider Second Line Business {_PRACTICE.removeprefix('Provider Business ')}",
    "city": f"{_PRACTICE} City Name",
    "state": f"{_PRACTICE} State Name",
    "zip": f"{_PRACTICE} Postal Code",
    "country": f"{_PRACTICE} Country Code (If outside U.S.)",
    "phone": f"{_PRACTICE} Telephone Number",
    "fax": f"{_PRACTICE} Fax Number",
}

# The CMS Doctors and Clinicians National Downloadable File, as released until 2023 ...
CMS_DAC_HEADER: tuple[str, ...] = (
    "NPI",
    "Ind_PAC_ID",
    "Ind_enrl_ID",
    "lst_nm",
    "frst_nm",
    "mid_nm",
    "suff",
    "gndr",
    "Cred",
    "Med_sch",
    "Grd_yr",
    "pri_spec",
    "sec_spec_1",
    "sec_spec_2",
    "sec_spec_3",
    "sec_spec_4",
    "sec_spec_all",
    "org_nm",
    "org_pac_id",
    "num_org_mem",
    "adr_ln_1",
    "adr_ln_2",
    "ln_2_sprs",
    "cty",
    "st",
    "zip",
    "phn_numbr",
    *(name for n in range(1, 6) for name in (f"hosp_afl_{n}", f"hosp_afl_lbn_{n}")),
    "ind_assgn",
    "grp_assgn",
    "adrs_id",
)
# ... and as the newer releases name it (no hospital affiliations; telehealth added).
CMS_DAC_HEADER_NEW: tuple[str, ...] = (
    "NPI",
    "Ind_PAC_ID",
    "Ind_enrl_ID",
    "Provider Last Name",
    "Provider First Name",
    "Provider Middle Name",
    "suff",
    "gndr",
    "Cred",
    "Med_sch",
    "Grd_yr",
    "pri_spec",
    "sec_spec_1",
    "sec_spec_2",
    "sec_spec_3",
    "sec_spec_4",
    "sec_spec_all",
    "Telehlth",
    "Facility Name",
    "org_pac_id",
    "num_org_mem",
    "adr_ln_1",
    "adr_ln_2",
    "ln_2_sprs",
    "City/Town",
    "State",
    "ZIP Code",
    "Telephone Number",
    "ind_assgn",
    "grp_assgn",
    "adrs_id",
)
# Old name -> new name, for writing one clinician in both namings.
CMS_DAC_RENAMED = {
    "lst_nm": "Provider Last Name",
    "frst_nm": "Provider First Name",
    "mid_nm": "Provider Middle Name",
    "org_nm": "Facility Name",
    "cty": "City/Town",
    "st": "State",
    "zip": "ZIP Code",
    "phn_numbr": "Telephone Number",
}


def with_check_digit(first_nine: str) -> str:
    """A valid NPI from nine digits (Luhn over the prefix 80840, as NPPES computes it)."""
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return first_nine + str((10 - total % 10) % 10)


def write_csv(
    path: Path, header: tuple[str, ...], rows: list[dict[str, str]], separator: str = ","
) -> Path:
    """Rows written under the full header, every other cell empty (as the real files do).

    `separator` is what joins the header's names (the older CMS files write `, `)."""
    for row in rows:
        strays = set(row) - set(header)
        assert not strays, f"not columns of this file: {strays}"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(separator.join(_quoted(name) for name in header) + "\r\n")
        writer = csv.writer(fh)
        for row in rows:
            writer.writerow([row.get(name, "") for name in header])
    return path


def _quoted(name: str) -> str:
    return f'"{name}"' if any(c in name for c in ',"\n') else name
