"""The words of our e-mails: an alert that fired, and the daily digest.

Plain functions from facts to subject, text and HTML; every value put into HTML is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True, slots=True)
class Composed:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class AlertFacts:
    ticker: str
    alert_type: str  # sentiment_threshold | volatility_threshold
    direction: str  # above | below
    threshold: float
    value: float
    configuration_name: str
    dashboard_url: str
    unsubscribe_url: str | None


@dataclass(frozen=True, slots=True)
class DigestLine:
    ticker: str
    score: float
    label: str
    confidence: float


def _measure(alert_type: str) -> str:
    return "sentiment" if alert_type == "sentiment_threshold" else "volatility (ATR % of price)"


def _figure(alert_type: str, value: float) -> str:
    return f"{value:+.2f}" if alert_type == "sentiment_threshold" else f"{value:.2f}%"


def _footer_text(unsubscribe_url: str | None) -> str:
    return f"\n\nStop these e-mails: {unsubscribe_url}\n" if unsubscribe_url else "\n"


def _footer_html(unsubscribe_url: str | None) -> str:
    if not unsubscribe_url:
        return ""
    link = f'<a href="{escape(unsubscribe_url)}">Stop these e-mails</a>'
    return f'<p style="color:#666;font-size:12px">{link}</p>'


def alert_email(facts: AlertFacts) -> Composed:
    measure = _measure(facts.alert_type)
    value = _figure(facts.alert_type, facts.value)
    threshold = _figure(facts.alert_type, facts.threshold)
    subject = f"{facts.ticker} {measure.split(' ')[0]} is {facts.direction} {threshold}"
    text = (
        f"{facts.ticker}'s {measure} is {value}, {facts.direction} your threshold of "
        f'{threshold} (configuration "{facts.configuration_name}").\n\n'
        f"See it on the dashboard: {facts.dashboard_url}"
        f"{_footer_text(facts.unsubscribe_url)}"
    )
    html = (
        f"<p><strong>{escape(facts.ticker)}</strong>'s {escape(measure)} is "
        f"<strong>{escape(value)}</strong>, {escape(facts.direction)} your threshold of "
        f"{escape(threshold)} (configuration &ldquo;{escape(facts.configuration_name)}&rdquo;)."
        f'</p><p><a href="{escape(facts.dashboard_url)}">See it on the dashboard</a></p>'
        f"{_footer_html(facts.unsubscribe_url)}"
    )
    return Composed(subject, text, html)


def digest_email(
    day: str,
    lines: Sequence[DigestLine],
    dashboard_url: str,
    unsubscribe_url: str | None,
) -> Composed:
    subject = f"Your sentiment digest for {day}"
    rows_text = "\n".join(
        f"  {line.ticker:<6} {line.score:+.2f} {line.label:<8} (confidence {line.confidence:.0%})"
        for line in lines
    )
    text = (
        f"Sentiment of your watchlists on {day}:\n\n{rows_text}\n\n"
        f"Dashboard: {dashboard_url}{_footer_text(unsubscribe_url)}"
    )
    rows_html = "".join(
        f"<tr><td>{escape(line.ticker)}</td><td>{line.score:+.2f}</td>"
        f"<td>{escape(line.label)}</td><td>{line.confidence:.0%}</td></tr>"
        for line in lines
    )
    html = (
        f"<p>Sentiment of your watchlists on {escape(day)}:</p>"
        "<table><tr><th>Ticker</th><th>Score</th><th>Label</th><th>Confidence</th></tr>"
        f"{rows_html}</table>"
        f'<p><a href="{escape(dashboard_url)}">Open the dashboard</a></p>'
        f"{_footer_html(unsubscribe_url)}"
    )
    return Composed(subject, text, html)
