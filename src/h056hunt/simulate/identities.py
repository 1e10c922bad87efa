"""The simulated tenant: users, admins, groups, apps, devices and IP addresses.

Every address comes from the documentation ranges of RFC 5737 and every name lives
under ``contoso.example``, so simulated logs cannot be mistaken for a real tenant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

DOMAIN = "contoso.example"

# Office egress addresses in 198.51.100.0/24, home addresses in 192.0.2.0/24 and
# attacker addresses in 203.0.113.0/24.
OFFICE_NETWORK = "198.51.100."
HOME_NETWORK = "192.0.2."
ATTACKER_NETWORK = "203.0.113."

FIRST_NAMES = tuple(
    [
        "Adele",
        "Alex",
        "Amir",
        "Ana",
        "Ben",
        "Carla",
        "Chen",
        "Dana",
        "Diego",
        "Elena",
        "Eric",
        "Fatima",
        "Grace",
        "Hana",
        "Ivan",
        "Jamal",
        "Julia",
        "Kenji",
        "Laura",
        "Lee",
        "Maria",
        "Mateo",
        "Mei",
        "Nadia",
        "Noah",
        "Olga",
        "Omar",
        "Priya",
        "Raj",
        "Rosa",
        "Sam",
        "Sara",
        "Tomas",
        "Uma",
        "Victor",
        "Wei",
        "Yara",
        "Zoe",
    ]
)
LAST_NAMES = tuple(
    [
        "Abbott",
        "Baker",
        "Castillo",
        "Dubois",
        "Eriksen",
        "Fischer",
        "Garcia",
        "Haddad",
        "Ito",
        "Jensen",
        "Kowalski",
        "Larsen",
        "Moreau",
        "Nakamura",
        "Okafor",
        "Patel",
        "Quinn",
        "Rossi",
        "Schmidt",
        "Tanaka",
        "Umar",
        "Varga",
        "Weber",
        "Xu",
        "Young",
        "Zhang",
    ]
)


class Location(NamedTuple):
    """The place Entra assigns to a sign-in's IP address."""

    city: str
    state: str
    country: str
    latitude: float
    longitude: float


class Device(NamedTuple):
    """A client device as ``deviceDetail`` and ``userAgent`` describe it."""

    device_id: str
    display_name: str
    operating_system: str
    browser: str
    user_agent: str
    trust_type: str
    is_compliant: bool
    is_managed: bool


class Group(NamedTuple):
    """A directory group that background audit records add members to."""

    object_id: str
    display_name: str


class AppActor(NamedTuple):
    """A service principal that initiates audit records."""

    app_id: str
    display_name: str
    service_principal_id: str


@dataclass(frozen=True, slots=True)
class User:
    """One directory user with the habits background sign-ins draw from."""

    index: int
    object_id: str
    display_name: str
    user_principal_name: str
    ip_address: str
    location: Location
    device: Device
    phone_detail: str


OFFICE_LOCATIONS = (
    Location("Seattle", "Washington", "US", 47.6062, -122.3321),
    Location("Chicago", "Illinois", "US", 41.8781, -87.6298),
    Location("New York", "New York", "US", 40.7128, -74.006),
)
ATTACKER_LOCATIONS = (
    Location("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041),
    Location("Bucharest", "Bucuresti", "RO", 44.4268, 26.1025),
    Location("Singapore", "Singapore", "SG", 1.3521, 103.8198),
    Location("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821),
    Location("Lagos", "Lagos", "NG", 6.5244, 3.3792),
)

_WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0"
)
_MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
)
_IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1"
)
ATTACKER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
NON_INTERACTIVE_USER_AGENT = "Windows-AzureAD-Authentication-Provider/1.0"

# (operating system, browser, user agent, trust type, compliant and managed)
_DEVICE_KINDS = (
    ("Windows10", "Edge 133.0.0", _WINDOWS_EDGE, "Azure AD joined", True),
    ("Windows10", "Edge 133.0.0", _WINDOWS_EDGE, "Hybrid Azure AD joined", True),
    ("MacOs", "Chrome 133.0.0", _MAC_CHROME, "Azure AD registered", False),
    ("Ios", "Mobile Safari 18.3", _IPHONE_SAFARI, "", False),
)
ATTACKER_DEVICE = Device(
    "", "", "Windows10", "Chrome 131.0.0", ATTACKER_USER_AGENT, "", False, False
)

GROUP_NAMES = (
    "Finance - Payables",
    "Sales Team",
    "VPN Users",
    "Contractors",
    "Project Aurora",
    "Helpdesk Tier 1",
)


def new_guid(rng: random.Random) -> str:
    """Draw a random version-4 GUID from ``rng``."""
    value = rng.getrandbits(128)
    value = (value & ~(0xF000 << 64)) | (0x4000 << 64)
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def attacker_ip(rng: random.Random) -> str:
    """Draw an attacker address from 203.0.113.0/24."""
    return f"{ATTACKER_NETWORK}{rng.randint(1, 254)}"


def attacker_location(ip_address: str) -> Location:
    """Return the fixed location of an attacker address."""
    last_octet = int(ip_address.rsplit(".", 1)[1])
    return ATTACKER_LOCATIONS[last_octet % len(ATTACKER_LOCATIONS)]


@dataclass(frozen=True, slots=True)
class Directory:
    """The simulated tenant.

    Attributes:
        tenant_id: the tenant's GUID.
        users: every user. The first ``pool_size`` ones sign in as background noise.
        pool_size: how many users take part in background activity.
        groups: groups that background audit records change.
        sync_app: the directory-sync service principal behind password syncs.
        compromised_admin: the admin account the attacker controls.
        helpdesk: the helpdesk analyst who resets passwords and revokes sessions.
        it_admin: the admin who creates accounts.
        new_hire: the account the ``add_user`` scenario creates, outside the pool.
    """

    tenant_id: str
    users: list[User]
    pool_size: int
    groups: tuple[Group, ...]
    sync_app: AppActor
    compromised_admin: User
    helpdesk: User
    it_admin: User
    new_hire: User


def _make_user(rng: random.Random, index: int, taken: set[str]) -> User:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    local_part = f"{first}.{last}".lower()
    while local_part in taken:
        local_part = f"{first}.{last}{rng.randint(2, 9999)}".lower()
    taken.add(local_part)

    if rng.random() < 0.6:
        ip_address = f"{OFFICE_NETWORK}{rng.randint(10, 40)}"
        location = OFFICE_LOCATIONS[rng.randrange(len(OFFICE_LOCATIONS))]
    else:
        ip_address = f"{HOME_NETWORK}{rng.randint(1, 254)}"
        location = OFFICE_LOCATIONS[rng.randrange(len(OFFICE_LOCATIONS))]

    system, browser, user_agent, trust_type, managed = rng.choice(_DEVICE_KINDS)
    device = Device(
        new_guid(rng) if trust_type else "",
        f"CONTOSO-{rng.randint(1000, 9999)}" if trust_type else "",
        system,
        browser,
        user_agent,
        trust_type,
        managed,
        managed,
    )
    return User(
        index=index,
        object_id=new_guid(rng),
        display_name=f"{first} {last}",
        user_principal_name=f"{local_part}@{DOMAIN}",
        ip_address=ip_address,
        location=location,
        device=device,
        phone_detail=f"+X XXXXXXXX{rng.randint(10, 99)}",
    )


def build_directory(seed: int, user_count: int) -> Directory:
    """Create the tenant for ``user_count`` pool users plus one new hire.

    The three admin roles are the first three users, so scenario targets are drawn
    from the rest.
    """
    rng = random.Random(f"{seed}/directory")
    tenant_id = new_guid(rng)
    taken: set[str] = set()
    users = [_make_user(rng, index, taken) for index in range(user_count + 1)]

    groups = tuple(Group(new_guid(rng), name) for name in GROUP_NAMES)
    sync_app = AppActor(new_guid(rng), "Microsoft Entra Connect Sync", new_guid(rng))
    return Directory(
        tenant_id=tenant_id,
        users=users,
        pool_size=user_count,
        groups=groups,
        sync_app=sync_app,
        compromised_admin=users[0],
        helpdesk=users[1],
        it_admin=users[2],
        new_hire=users[user_count],
    )
