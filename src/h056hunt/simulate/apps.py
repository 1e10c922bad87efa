"""First-party client apps that simulated users sign in to."""

from __future__ import annotations

from typing import NamedTuple


class App(NamedTuple):
    """A first-party client app and the resource it requests a token for."""

    app_id: str
    display_name: str
    resource_display_name: str
    resource_id: str
    client_app_used: str


# Well-known first-party application ids as Microsoft publishes them.
OFFICE_HOME = App(
    "4765445b-32c6-49b0-83e6-1d93765276ca",
    "OfficeHome",
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
    "Browser",
)
AZURE_PORTAL = App(
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
    "Azure Portal",
    "Windows Azure Service Management API",
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "Browser",
)
INTERACTIVE_APPS = (
    OFFICE_HOME,
    App(
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Microsoft Teams",
        "Microsoft Teams Services",
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Mobile Apps and Desktop clients",
    ),
    App(
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "Microsoft Office",
        "Microsoft Graph",
        "00000003-0000-0000-c000-000000000000",
        "Mobile Apps and Desktop clients",
    ),
    App(
        "19db86c3-b2b9-44cc-b339-36da233a3be2",
        "My Signins",
        "Windows Azure Active Directory",
        "00000002-0000-0000-c000-000000000000",
        "Browser",
    ),
)
NON_INTERACTIVE_APPS = (
    App(
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
        "Microsoft Graph",
        "00000003-0000-0000-c000-000000000000",
        "Mobile Apps and Desktop clients",
    ),
    App(
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
        "Mobile Apps and Desktop clients",
    ),
    App(
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Microsoft Teams",
        "Microsoft Teams Services",
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        "Mobile Apps and Desktop clients",
    ),
)
