"""PCP matching: eligibility rules, scoring, one-member ranking, batch assignment, adequacy."""
