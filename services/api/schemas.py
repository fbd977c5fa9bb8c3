"""Request and response bodies of the API (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.auth.accounts import SignIn
from services.auth.magic_link import normalise_email
from services.auth.sessions import IssuedSession, Limits, Principal
from services.clock import iso
from services.market.universe import Ticker
from services.store.models import Configuration

# An ASCII address (RFC 5322's atoms, a dotted domain), spaces around it allowed (a pasted
# address often has them; `normalise_email` trims them): a part of what `normalise_email`
# accepts, so that whatever the document lets through, the service takes.
EMAIL_PATTERN = r"^ *[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+ *$"
# A name is trimmed (`str.strip`) before its length is checked, so it needs one character that
# is not a space. Python's spaces are spelled out: `\s` means other sets in other regex engines.
PYTHON_SPACES = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAME_PATTERN = f"[^{PYTHON_SPACES}]"


class Strict(BaseModel):
    """A request body: unknown fields refused, and values taken as their JSON type says (no
    `0` for `false`, no `"1"` for 1, no NaN). Patterns are matched by Python's `re`, like the
    domain checks behind them."""

    model_config = ConfigDict(
        extra="forbid", strict=True, allow_inf_nan=False, regex_engine="python-re"
    )


class SessionOut(BaseModel):
    user_id: str
    token: str
    session_id: str
    auth_type: str
    created_at: str
    session_expires_at: str

    @classmethod
    def of(cls, issued: IssuedSession) -> SessionOut:
        return cls(
            user_id=issued.user.user_id,
            token=issued.token,
            session_id=issued.session.session_id,
            auth_type=issued.session.auth_type,
            created_at=iso(issued.session.created_at),
            session_expires_at=iso(issued.session.expires_at),
        )


class LimitsOut(BaseModel):
    max_configurations: int
    max_tickers_per_configuration: int
    alerts: str
    configurations_used: int


class MeOut(BaseModel):
    user_id: str
    auth_type: str
    email: str | None
    created_at: str
    session_id: str
    session_expires_at: str
    limits: LimitsOut

    @classmethod
    def of(cls, principal: Principal, limits: Limits, used: int) -> MeOut:
        user, session = principal.user, principal.session
        return cls(
            user_id=user.user_id,
            auth_type=user.auth_type,
            email=user.email,
            created_at=iso(user.created_at),
            session_id=session.session_id,
            session_expires_at=iso(session.expires_at),
            limits=LimitsOut(
                max_configurations=limits.max_configurations,
                max_tickers_per_configuration=limits.max_tickers_per_configuration,
                alerts=limits.alerts,
                configurations_used=used,
            ),
        )


class SignedOut(BaseModel):
    status: str = "signed_out"
    session_id: str


ConfigurationName = Annotated[
    str, Field(description="1 to 50 characters", min_length=1, max_length=50, pattern=NAME_PATTERN)
]
ConfigurationTickers = Annotated[
    list[str],
    Field(description="1 to 5 symbols from the exchange list", min_length=1, max_length=5),
]


class ConfigurationIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Big tech", "tickers": ["AAPL", "MSFT"]}]}
    )
    name: ConfigurationName
    tickers: ConfigurationTickers


class ConfigurationPatch(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Chips"}, {"tickers": ["NVDA", "AMD"]}]}
    )
    name: ConfigurationName | None = None
    tickers: ConfigurationTickers | None = None


class ConfigurationOut(BaseModel):
    config_id: str
    name: str
    tickers: list[str]
    created_at: str
    updated_at: str
    version: int

    @classmethod
    def of(cls, config: Configuration) -> ConfigurationOut:
        return cls(
            config_id=config.config_id,
            name=config.name,
            tickers=list(config.tickers),
            created_at=iso(config.created_at),
            updated_at=iso(config.updated_at),
            version=config.version,
        )


class ConfigurationList(BaseModel):
    configurations: list[ConfigurationOut]
    max_allowed: int


class DeletedOut(BaseModel):
    config_id: str
    deleted_at: str


class TickerOut(BaseModel):
    symbol: str
    name: str
    exchange: str
    sector: str

    @classmethod
    def of(cls, ticker: Ticker) -> TickerOut:
        return cls(
            symbol=ticker.symbol, name=ticker.name, exchange=ticker.exchange, sector=ticker.sector
        )


class TickerSearch(BaseModel):
    query: str
    results: list[TickerOut]
    count: int


class TickerValidation(BaseModel):
    symbol: str
    valid: bool
    ticker: TickerOut | None = None
    exchanges: list[str]


def deleted(config: Configuration) -> DeletedOut:
    assert config.deleted_at is not None
    return DeletedOut(config_id=config.config_id, deleted_at=iso(config.deleted_at))


class MagicLinkIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "reader@example.com"}]})
    email: str = Field(
        description="the address to send the sign-in link to (ASCII)",
        max_length=254,
        pattern=EMAIL_PATTERN,
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        return normalise_email(value)


class MagicLinkSent(BaseModel):
    status: str = "email_sent"
    expires_in_seconds: int


class MagicLinkVerifyIn(Strict):
    token: str = Field(description="the token from the e-mail", min_length=1, max_length=1024)


class MagicLinkPreviewIn(Strict):
    token: str = Field(description="the token from the e-mail", min_length=1, max_length=1024)


class MagicLinkPreviewOut(BaseModel):
    """Who the link would sign in as, so the page can ask before using it."""

    email_hint: str = Field(description="the link's address, masked: `re***r@example.com`")
    expires_at: str = Field(description="when the link stops working (ISO-8601 UTC)")


class MergeOut(BaseModel):
    """What became of the caller's anonymous data: `upgraded` (the anonymous user is now the
    account, everything kept), `moved` (configurations moved into an existing account within
    its limit), or `none` (no anonymous session came with the request)."""

    mode: str
    from_user_id: str | None
    configurations_moved: int
    configurations_not_moved: int


class SignedInOut(SessionOut):
    merged: MergeOut

    @classmethod
    def of_sign_in(cls, signed: SignIn) -> SignedInOut:
        merge = signed.merge
        return cls(
            **SessionOut.of(signed.issued).model_dump(),
            merged=MergeOut(
                mode=merge.mode,
                from_user_id=merge.from_user_id,
                configurations_moved=merge.configurations_moved,
                configurations_not_moved=merge.configurations_not_moved,
            ),
        )


class OAuthProviderOut(BaseModel):
    authorize_url: str = Field(description="open in the browser; it comes back with code and state")


class OAuthUrls(BaseModel):
    providers: dict[str, OAuthProviderOut]
    binding: str = Field(
        description="keep it in the browser that asked (never in a URL) and send it back with "
        "the callback: the states of this answer are refused from any other browser"
    )


class OAuthCallbackIn(Strict):
    provider: Literal["google"]
    code: str = Field(
        description="the `code` the provider sent back", min_length=1, max_length=2048
    )
    state: str = Field(
        description="the `state` the provider sent back", min_length=1, max_length=512
    )
    binding: str | None = Field(
        default=None,
        description="the `binding` of the `/oauth/urls` answer; required when no session "
        "asked for the URL",
        min_length=1,
        max_length=128,
    )
