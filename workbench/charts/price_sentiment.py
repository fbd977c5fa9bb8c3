"""Candlesticks with the sentiment history on a second y axis, and a volume strip below.

Wicks are segments from low to high, bodies rectangles from open to close coloured by
direction; the sentiment line and its points share the x axis with the candles but have an
axis of their own (`multi_y`, always -1 to 1), and the volume strip is a separate plot linked
on x. Hourly sentiment (a week) is many small points, daily sentiment fewer larger ones, so
the series reads at every range.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh options used below
import pandas as pd
from bokeh.models import NumeralTickFormatter

UP, DOWN, SENTIMENT = "#16a34a", "#dc2626", "#2563eb"
# A body's width as a share of the spacing between candles: gaps keep neighbours apart.
BODY_SHARE = 0.7
# A lone candle has no neighbour to measure the spacing from; a day is the widest bar served.
LONE_SPACING = pd.Timedelta(days=1)
PRICE_HEIGHT, VOLUME_HEIGHT = 380, 150
SENTIMENT_AXIS = "sentiment (-1 to 1)"
PRICE_AXIS, VOLUME_AXIS, TIME_AXIS = "price (USD)", "volume (shares)", "date (UTC)"
# Point sizes (screen pixels) by the spacing of the sentiment buckets.
HOURLY_POINT, DAILY_POINT = 4, 7


def _spacing(dates: pd.Series) -> pd.Timedelta:
    gaps = dates.diff().dropna()
    return pd.Timedelta(gaps.median()) if len(gaps) else LONE_SPACING


def candle_layers(candles: pd.DataFrame) -> tuple[hv.Segments, hv.Rectangles]:
    half = _spacing(candles["date"]) * BODY_SHARE / 2
    direction = (candles["close"] >= candles["open"]).map({True: "up", False: "down"})
    day = candles["date"].dt.strftime("%Y-%m-%d %H:%M").str.removesuffix(" 00:00")
    wicks = pd.DataFrame(
        {
            "date": candles["date"],
            "price": candles["low"],
            "date_end": candles["date"],
            "price_high": candles["high"],
            "direction": direction,
        }
    )
    bodies = pd.DataFrame(
        {
            "date": candles["date"] - half,
            # Both layers name their y "price", so they share the left axis.
            "price": candles[["open", "close"]].min(axis=1),
            "date_right": candles["date"] + half,
            "price_top": candles[["open", "close"]].max(axis=1),
            "day": day,
            "open": candles["open"],
            "high": candles["high"],
            "low": candles["low"],
            "close": candles["close"],
            "volume": candles["volume"],
            "direction": direction,
        }
    )
    colour = hv.dim("direction").categorize({"up": UP, "down": DOWN})
    date = hv.Dimension("date", label=TIME_AXIS)
    price = hv.Dimension("price", label=PRICE_AXIS)
    wick_layer = hv.Segments(
        wicks, kdims=[date, price, "date_end", "price_high"], vdims=["direction"]
    ).opts(color=colour, line_width=1)
    body_layer = hv.Rectangles(
        bodies,
        kdims=[date, price, "date_right", "price_top"],
        vdims=["day", "open", "high", "low", "close", "volume", "direction"],
        label="price",
    ).opts(
        color=colour,
        line_color=colour,
        tools=["hover"],
        hover_tooltips=[
            ("date", "@day"),
            ("open", "@open{0.00}"),
            ("high", "@high{0.00}"),
            ("low", "@low{0.00}"),
            ("close", "@close{0.00}"),
            ("volume", "@volume{0,0}"),
        ],
    )
    return wick_layer, body_layer


def point_size(history: pd.DataFrame) -> int:
    """Hourly buckets (a week: up to 168) get small points, daily ones larger."""
    return HOURLY_POINT if _spacing(history["date"]) < pd.Timedelta(days=1) else DAILY_POINT


def sentiment_layers(history: pd.DataFrame, source: str) -> tuple[hv.Curve, hv.Scatter]:
    points = pd.DataFrame(
        {
            "date": history["date"],
            "sentiment": history["score"],
            "day": history["date"].dt.strftime("%Y-%m-%d %H:%M").str.removesuffix(" 00:00"),
            "label": history["label"],
            "articles": history["count"],
        }
    )
    # Scores are in [-1, 1] by the API's definition; a fixed axis keeps "neutral" in the middle.
    axis = hv.Dimension("sentiment", label=SENTIMENT_AXIS, range=(-1.0, 1.0))
    date = hv.Dimension("date", label=TIME_AXIS)
    name = f"{source} sentiment"
    line = hv.Curve(points, date, axis, label=name).opts(color=SENTIMENT, line_width=2)
    dots = hv.Scatter(points, date, [axis, "day", "label", "articles"], label=name).opts(
        color=SENTIMENT,
        size=point_size(history),
        line_color="white",
        line_width=0.5,
        tools=["hover"],
        hover_tooltips=[
            ("date", "@day"),
            ("sentiment", "@sentiment{+0.000}"),
            ("label", "@label"),
            ("articles", "@articles"),
        ],
    )
    return line, dots


def volume_strip(candles: pd.DataFrame) -> hv.Spikes:
    frame = candles.assign(
        direction=(candles["close"] >= candles["open"]).map({True: "up", False: "down"})
    )
    date = hv.Dimension("date", label=TIME_AXIS)
    volume = hv.Dimension("volume", label=VOLUME_AXIS)
    return hv.Spikes(frame, date, [volume, "direction"]).opts(
        color=hv.dim("direction").categorize({"up": UP, "down": DOWN}),
        line_width=3,
        height=VOLUME_HEIGHT,
        responsive=True,
        title="volume",
        yaxis="left",
        # Share volumes read as "25.7m", not "2.570e+7".
        yformatter=NumeralTickFormatter(format="0.0a"),
        # A strip this short has room for a few labels only.
        yticks=3,
        tools=["hover"],
        hover_tooltips=[("volume", "@volume{0,0}")],
    )


def price_sentiment_chart(
    candles: pd.DataFrame, history: pd.DataFrame, *, ticker: str, source: str
) -> hv.Layout:
    """The whole chart; `candles` must hold at least one row (callers say so otherwise)."""
    if candles.empty:
        raise ValueError("no candles to draw")
    wicks, bodies = candle_layers(candles)
    layers: list[hv.Element] = [wicks, bodies]
    if not history.empty:
        layers.extend(sentiment_layers(history, source))
    price = hv.Overlay(layers).opts(
        multi_y=True,
        height=PRICE_HEIGHT,
        responsive=True,
        title=f"{ticker}: price and {source} sentiment",
        show_legend=bool(len(layers) > 2),
        legend_position="top_left",
    )
    return (price + volume_strip(candles)).cols(1).opts(shared_axes=True)
