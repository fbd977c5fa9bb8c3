"""Key builders for every entity of the single table.

One function per entity keeps the key grammar in one place; repositories never format
keys by hand. Layout (PK | SK):

    USER#{user_id}          | PROFILE                 the user
    USER#{user_id}          | SESSION#{session_id}    a sign-in session
    USER#{user_id}          | CONFIG#{config_id}      a watchlist configuration
    EMAIL#{email_hash}      | USER                    unique e-mail -> user
    ACCOUNTS                | USER#{user_id}          the directory of accounts (digest)
    ANONEXPIRY              | {expires_at}#{user_id}  an anonymous user due for cleanup
    TOKEN#{token_hash}      | TOKEN                   bearer / magic-link / OAuth-state token
    CONFIG#{config_id}      | ALERT#{alert_id}        an alert rule
    ARTICLE#{dedup_key}     | ARTICLE                 a news story (by_status, by_sentiment)
    ARTICLE#{dedup_key}     | TAG#{ticker}            the story's ticker entry (by_tag)
    SENTIMENT#{ticker}#{source} | {resolution}#{bucket_start}   time bucket of scores
    OHLC#{ticker}           | {resolution}#{range}    price cache (L2)
    CIRCUIT#{service}       | STATE                   circuit breaker state
    CIRCUITLOG              | {at}#{service}#{version} a circuit's state change (kept 7 days)
    QUOTA#{service}#{period}| COUNTER                 quota counter of one period
    QUOTA#{service}#{period}| SYMBOLS                 distinct symbols asked for in a period
    ALLOWANCE#{name}#{subject_hash}#{period} | COUNTER  one caller's (or recipient's) use of
                            an allowance in a period (sign-in e-mails, price fetches)
    ENTITLEMENT             | {provider}#{endpoint}   an endpoint the key's plan refused
    RATEWINDOW#{window_start} | {instance}#{part}     one instance's rate-limit counts
    OUTBOX#{email_id}       | EMAIL                   an e-mail waiting for delivery
    TRACKED                 | TICKER#{ticker}         how many live configurations watch a ticker
    DEADLETTER#{topic}      | {message_id}            a message that failed every delivery
    INGESTION#RUN           | {started_at}            summary of one ingestion cycle
"""

from __future__ import annotations

Key = dict[str, str]

PROFILE = "PROFILE"
SESSION_PREFIX = "SESSION#"
CONFIG_PREFIX = "CONFIG#"
ALERT_PREFIX = "ALERT#"
TAG_PREFIX = "TAG#"
TRACKED = "TRACKED"
INGESTION_RUNS = "INGESTION#RUN"
RATE_WINDOW_PREFIX = "RATEWINDOW#"
# Every service's circuit changes under one partition: the log is read newest first, across
# services, and a few changes a day never make it hot.
CIRCUIT_LOG = "CIRCUITLOG"


def _key(pk: str, sk: str) -> Key:
    return {"PK": pk, "SK": sk}


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_profile(user_id: str) -> Key:
    return _key(user_pk(user_id), PROFILE)


def user_session(user_id: str, session_id: str) -> Key:
    return _key(user_pk(user_id), f"{SESSION_PREFIX}{session_id}")


def user_config(user_id: str, config_id: str) -> Key:
    return _key(user_pk(user_id), f"{CONFIG_PREFIX}{config_id}")


def email_owner(email_hash: str) -> Key:
    return _key(f"EMAIL#{email_hash}", "USER")


# Every account under one partition, so the digest reads them with a paginated query instead
# of scanning the table; written once per account (creation or upgrade), read once a day.
ACCOUNTS = "ACCOUNTS"
# Every anonymous user's expiry under one partition, sorted by time: the cleanup reads the
# oldest due entries first. One write per anonymous sign-up, well within a partition's rate.
ANONYMOUS_EXPIRY = "ANONEXPIRY"


def account_entry(user_id: str) -> Key:
    return _key(ACCOUNTS, user_pk(user_id))


def anonymous_expiry(expires_at: str, user_id: str) -> Key:
    """`expires_at` is an ISO-8601 UTC time, so the sort key orders entries by expiry."""
    return _key(ANONYMOUS_EXPIRY, f"{expires_at}#{user_id}")


def token(token_hash: str) -> Key:
    return _key(f"TOKEN#{token_hash}", "TOKEN")


def config_alert(config_id: str, alert_id: str) -> Key:
    return _key(f"CONFIG#{config_id}", f"{ALERT_PREFIX}{alert_id}")


def article_pk(dedup_key: str) -> str:
    return f"ARTICLE#{dedup_key}"


def article(dedup_key: str) -> Key:
    return _key(article_pk(dedup_key), "ARTICLE")


def article_tag(dedup_key: str, ticker: str) -> Key:
    return _key(article_pk(dedup_key), f"{TAG_PREFIX}{ticker}")


def sentiment_bucket(ticker: str, source: str, resolution: str, bucket_start: str) -> Key:
    return _key(f"SENTIMENT#{ticker}#{source}", f"{resolution}#{bucket_start}")


def ohlc_cache(ticker: str, resolution: str, range_name: str) -> Key:
    return _key(f"OHLC#{ticker}", f"{resolution}#{range_name}")


def circuit(service: str) -> Key:
    return _key(f"CIRCUIT#{service}", "STATE")


def circuit_transition(at: str, service: str, version: int) -> Key:
    """A state change of `service`'s circuit: sorted by time; the record's new version keeps
    two changes in the same instant apart."""
    return _key(CIRCUIT_LOG, f"{at}#{service}#{version:08d}")


# Every refused endpoint under one partition: read in one query, a handful of items at most.
ENTITLEMENTS = "ENTITLEMENT"


def entitlement(provider: str, endpoint: str) -> Key:
    return _key(ENTITLEMENTS, f"{provider}#{endpoint}")


def quota(service: str, period: str) -> Key:
    return _key(f"QUOTA#{service}#{period}", "COUNTER")


def quota_symbols(service: str, period: str) -> Key:
    """The distinct symbols a quota counted in `period` (a string set)."""
    return _key(f"QUOTA#{service}#{period}", "SYMBOLS")


def allowance(name: str, subject_hash: str, period: str) -> Key:
    """How much of allowance `name` one subject (known only by its hash) used in `period`."""
    return _key(f"ALLOWANCE#{name}#{subject_hash}#{period}", "COUNTER")


def rate_window_pk(window_start: int) -> str:
    return f"{RATE_WINDOW_PREFIX}{window_start}"


def rate_window(window_start: int, instance: str, part: int) -> Key:
    """One function instance's request counts (a JSON map) in one rate-limit window."""
    return _key(rate_window_pk(window_start), f"{instance}#{part}")


def user_email_count(user_id: str, day: str) -> Key:
    """How many e-mails a user was sent on `day` (YYYY-MM-DD): their daily quota counter."""
    return _key(user_pk(user_id), f"EMAILS#{day}")


def outbox_email(email_id: str) -> Key:
    return _key(f"OUTBOX#{email_id}", "EMAIL")


def tracked_ticker(ticker: str) -> Key:
    return _key(TRACKED, f"TICKER#{ticker}")


def dead_letter(topic: str, message_id: str) -> Key:
    return _key(f"DEADLETTER#{topic}", message_id)


def ingestion_run(started_at: str) -> Key:
    return _key(INGESTION_RUNS, started_at)


def entity_of(pk: str, sk: str) -> str:
    """The entity name of a key, for item counts per entity in the workbench."""
    prefix = pk.split("#", 1)[0]
    if prefix == "USER":
        if sk == PROFILE:
            return "user"
        return sk.split("#", 1)[0].lower()
    if prefix == "CONFIG" and sk.startswith(ALERT_PREFIX):
        return "alert"
    if prefix == "ARTICLE":
        return "article_tag" if sk.startswith(TAG_PREFIX) else "article"
    if prefix == ACCOUNTS:
        return "account_entry"
    if prefix == ANONYMOUS_EXPIRY:
        return "anonymous_expiry"
    return prefix.lower()


def health_probe() -> Key:
    """A key that is never written: reading it proves the table answers."""
    return _key("HEALTH", "PROBE")
