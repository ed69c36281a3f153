"""Personal data in text: e-mail addresses, phone numbers, card numbers (Luhn), IBANs (mod 97), IP addresses."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)")


_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ \t.-]?)?(?:\(\d{1,4}\)[ \t.-]?)?\d{2,4}(?:[ \t.-]\d{2,5}){1,4}(?![\w-])|(?<![\w+])\+\d{9,14}(?!\w)"
)
"""Separators are spaces, dots and hyphens on one line: numbers on separate lines are not a phone."""

_ARITHMETIC = re.compile(r"[=+*/×÷<>]")
"""A candidate next to one of these is a sum ("= 1000-450-300 ="), not a phone number."""


_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")


# Issuer prefixes of Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay and Maestro: a
# Luhn-valid order number alone (one in ten random numbers) is not a card.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|2)|35|3(?:0[0-5]|[689])|5[06-9])")


_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])"
)


_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


_LOCAL_PHONE = re.compile(r"^\d{3}[-. ]\d{4}$")  # 555-0177: a local number without area code


_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


@dataclass(frozen=True)
class PiiMatch:
    kind: str  # email | phone | card | iban | ip
    start: int
    end: int
    text: str


def find_pii(text: str) -> list[PiiMatch]:
    """E-mail addresses, phone numbers, card numbers (Luhn), IBANs (mod 97) and IPv4/IPv6 addresses."""
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match[str]) -> None:
        if any(m.start() < e and s < m.end() for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(PiiMatch(kind, m.start(), m.end(), m.group(0)))

    for m in _EMAIL.finditer(text):
        add("email", m)
    for m in _IBAN.finditer(text):
        if iban_valid(m.group(0)):
            add("iban", m)
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_valid(digits):
            add("card", m)
    for m in _IPV4.finditer(text):
        add("ip", m)
    for m in _IPV6.finditer(text):
        try:
            hexdigits = sum(c not in ":" for c in m.group(0))
            if m.group(0).count(":") >= 2 and hexdigits >= 4 and ipaddress.IPv6Address(m.group(0)):
                add("ip", m)
        except ValueError:
            pass
    for m in _PHONE.finditer(text):
        around = text[max(0, m.start() - 3) : m.start()] + text[m.end() : m.end() + 3]
        if _ARITHMETIC.search(around):
            continue
        digits = re.sub(r"\D", "", m.group(0))
        local = len(digits) == 7 and _LOCAL_PHONE.match(m.group(0))
        if (9 <= len(digits) <= 15 or local) and not _DATE_LIKE.match(m.group(0).strip()):
            add("phone", m)
    return sorted(found, key=lambda p: p.start)
