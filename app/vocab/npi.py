"""National Provider Identifier check digit (Luhn over the number prefixed with 80840)."""

import re

NPI_PREFIX = "80840"
NPI_PATTERN = re.compile(r"^[0-9]{10}$")


def luhn_check_digit(payload: str) -> int:
    """Return the Luhn check digit for a string of digits (the check digit not included)."""
    total = 0
    # Double every second digit counting leftwards from the digit next to the check digit.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def npi_check_digit(first_nine: str) -> int:
    """Return the NPI check digit for the first nine digits of an NPI."""
    return luhn_check_digit(NPI_PREFIX + first_nine)


def is_valid_npi(value: str) -> bool:
    """True when ``value`` is ten digits whose last digit is the NPI Luhn check digit."""
    if len(value) != 10 or not value.isdigit():
        return False
    return npi_check_digit(value[:9]) == int(value[9])


def make_npi(first_nine: str) -> str:
    """Complete nine digits into a valid NPI."""
    return first_nine + str(npi_check_digit(first_nine))
