"""The shared vocabulary of the domain model: layers, kinds, tie types, statuses, axes."""

from __future__ import annotations

from enum import StrEnum


class Layer(StrEnum):
    MACRO = "macro"
    MESO = "meso"
    MICRO = "micro"


class Kind(StrEnum):
    INTERNATIONAL_ORGANIZATION = "international_organization"
    GEOPOLITICAL_BLOC = "geopolitical_bloc"
    STATE = "state"
    REGIONAL_ORGANIZATION = "regional_organization"
    CITY = "city"
    REGION = "region"
    CITY_NETWORK = "city_network"
    PRIVATE_ACTOR = "private_actor"
    CIVIL_SOCIETY = "civil_society"
    ACADEMIA = "academia"


#: Default layer of each kind (PRODUCT.md); an actor may override it.
KIND_LAYER: dict[Kind, Layer] = {
    Kind.INTERNATIONAL_ORGANIZATION: Layer.MACRO,
    Kind.GEOPOLITICAL_BLOC: Layer.MACRO,
    Kind.STATE: Layer.MESO,
    Kind.REGIONAL_ORGANIZATION: Layer.MESO,
    Kind.CITY: Layer.MICRO,
    Kind.REGION: Layer.MICRO,
    Kind.CITY_NETWORK: Layer.MICRO,
    Kind.PRIVATE_ACTOR: Layer.MICRO,
    Kind.CIVIL_SOCIETY: Layer.MICRO,
    Kind.ACADEMIA: Layer.MICRO,
}


class TieType(StrEnum):
    MEMBER_OF = "member_of"
    TWINNED_WITH = "twinned_with"
    PARTNER_OF = "partner_of"
    LOCATED_IN = "located_in"
    SIGNATORY_OF = "signatory_of"
    HOSTS = "hosts"
    FUNDS = "funds"
    PARTICIPATES_IN = "participates_in"
    #: a state (or the EU) that is a party to a treaty framework (ratified, in force for it)
    PARTY_TO = "party_to"
    #: a coordinator (province, region, metropolitan body) of a member's commitments in a network
    COORDINATES = "coordinates"
    #: a supporter (association, agency) backing members of a network or programme
    SUPPORTS = "supports"
    #: the actor founded (or co-founded) the target
    FOUNDED = "founded"


#: Tie types whose direction carries no meaning; stored once, source id < target id.
SYMMETRIC_TIES = frozenset({TieType.TWINNED_WITH, TieType.PARTNER_OF})

#: the Paris Agreement's operative articles an initiative or a text can serve (the
#: alignment's catalogue, and the gaps of a profile's initiatives)
PARIS_OPERATIVE_ARTICLES = (2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)


class Status(StrEnum):
    ACTIVE = "active"
    DORMANT = "dormant"
    ENDED = "ended"
    PROPOSED = "proposed"
    #: paused by one side or both (e.g. partnerships suspended since 2022); not active
    SUSPENDED = "suspended"


class Axis(StrEnum):
    SUSTAINABILITY = "sustainability"
    DIGITAL = "digital"
    ENGAGEMENT = "engagement"


def choices(enum: type[StrEnum]) -> str:
    """The allowed values of an enum, for error messages and help texts."""
    return ", ".join(m.value for m in enum)
