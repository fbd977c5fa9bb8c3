"""The price-sentiment chart: candles, a sentiment line on its own axis, a linked volume strip."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import pytest
from bokeh.models import HoverTool, Plot

from workbench.charts.price_sentiment import price_sentiment_chart

pytestmark = pytest.mark.unit


def candles(days: int) -> pd.DataFrame:
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    opens = [100.0 + d for d in range(days)]
    closes = [o + (1 if d % 2 else -1) for d, o in enumerate(opens)]
    return pd.DataFrame(
        {
            "date": dates,
            "open": opens,
            "high": [o + 3 for o in opens],
            "low": [o - 3 for o in opens],
            "close": closes,
            "volume": [1000 * (d + 1) for d in range(days)],
        }
    )


def history(days: int) -> pd.DataFrame:
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    return pd.DataFrame(
        {
            "date": dates,
            "score": [0.1] * days,
            "label": ["neutral"] * days,
            "confidence": [0.5] * days,
            "count": [2] * days,
            "source": ["aggregated"] * days,
        }
    )


def figures(layout: hv.Layout) -> list[Plot]:
    state = hv.renderer("bokeh").get_plot(layout).state
    return sorted(state.select({"type": Plot}), key=lambda p: len(p.renderers), reverse=True)


def glyphs(plot: Plot) -> list[str]:
    return [type(r.glyph).__name__ for r in plot.renderers]


def test_candles_and_sentiment_share_a_plot_on_two_axes() -> None:
    # Given prices and a history, Then wicks (Segment), bodies (Quad), the sentiment Line and
    # its points are in one plot with a second y range, and volume is a plot linked on x.
    price, volume = figures(
        price_sentiment_chart(candles(10), history(10), ticker="AAPL", source="aggregated")
    )
    assert glyphs(price) == ["Segment", "Quad", "Line", "Scatter"]
    assert set(price.extra_y_ranges) == {"sentiment"}
    assert [a.axis_label for a in price.yaxis] == ["price (USD)", "sentiment (-1 to 1)"]
    assert glyphs(volume) == ["Segment"] and volume.x_range is price.x_range
    assert price.title.text == "AAPL: price and aggregated sentiment"


def test_hover_shows_the_candle_and_the_sentiment_point() -> None:
    price, _ = figures(price_sentiment_chart(candles(3), history(3), ticker="A", source="tiingo"))
    tooltips = [dict(t.tooltips) for t in price.tools if isinstance(t, HoverTool)]
    assert any("close" in t and "volume" in t for t in tooltips)
    assert any("sentiment" in t and "articles" in t for t in tooltips)


def test_bodies_are_coloured_by_direction() -> None:
    layout = price_sentiment_chart(candles(4), history(0), ticker="A", source="tiingo")
    bodies = layout.Overlay.I.Rectangles.Price
    assert list(bodies.dimension_values("direction")) == ["down", "up", "down", "up"]


def test_without_history_only_candles_are_drawn() -> None:
    price, _ = figures(price_sentiment_chart(candles(5), history(0), ticker="A", source="x"))
    assert glyphs(price) == ["Segment", "Quad"]


def test_a_lone_candle_still_has_a_body() -> None:
    layout = price_sentiment_chart(candles(1), history(1), ticker="A", source="x")
    body = layout.Overlay.I.Rectangles.Price.data.iloc[0]
    assert body["date_right"] > body["date"]


def test_no_candles_is_refused() -> None:
    with pytest.raises(ValueError, match="no candles"):
        price_sentiment_chart(candles(0), history(0), ticker="A", source="x")


def frames_at(range_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candles and sentiment as the API serves a range: hourly buckets up to a week (and
    intraday candles for a day), daily ones from a month on."""
    hourly = range_name in ("1D", "1W")
    periods = {"1D": 24, "1W": 168, "3M": 63, "1Y": 252}[range_name]
    freq = "h" if hourly else "D"
    prices = candles(periods).assign(date=pd.date_range("2026-01-01", periods=periods, freq=freq))
    scores = history(periods).assign(
        date=pd.date_range("2026-01-01", periods=periods, freq=freq),
        score=[(-1) ** d * 0.5 for d in range(periods)],
    )
    return prices, scores


@pytest.mark.parametrize(("range_name", "size"), [("1D", 4), ("1W", 4), ("3M", 7), ("1Y", 7)])
def test_the_sentiment_series_is_drawn_at_every_range(range_name: str, size: int) -> None:
    # Given a range's candles and sentiment buckets, Then the sentiment's line and points are
    # drawn with every bucket, on their own -1..1 axis, sized for the buckets' spacing.
    prices, scores = frames_at(range_name)
    price, volume = figures(
        price_sentiment_chart(prices, scores, ticker="AAPL", source="aggregated")
    )
    drawn = [r for r in price.renderers if r.y_range_name == "sentiment"]
    assert [type(r.glyph).__name__ for r in drawn] == ["Line", "Scatter"]
    assert all(len(r.data_source.data["sentiment"]) == len(scores) for r in drawn)
    assert drawn[1].glyph.size == size
    axis = price.extra_y_ranges["sentiment"]
    assert (axis.start, axis.end) == (-1.0, 1.0)
    assert volume.x_range is price.x_range


def test_the_price_chart_has_a_legend_and_labelled_axes() -> None:
    price, volume = figures(price_sentiment_chart(candles(5), history(5), ticker="A", source="x"))
    legends = [item.label.value for legend in price.legend for item in legend.items]
    assert legends == ["price", "x sentiment"]
    assert [a.axis_label for a in price.xaxis] == ["date (UTC)"]
    assert [a.axis_label for a in volume.yaxis] == ["volume (shares)"]
    assert volume.title.text == "volume"
