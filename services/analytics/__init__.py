"""Does news sentiment tell anything about the price? Pure functions over pandas DataFrames.

One use case per module: `frames` (API answers -> a daily panel of sentiment joined to
returns), `correlation` (sentiment against same-day and next-1/3/5-day returns, with Fisher-z
confidence intervals), `leadlag` (cross-correlation by lag), `event_study` (cumulative return
around days whose sentiment crosses a threshold), `backtest` (long/short by sentiment against
buy-and-hold), `loader` (the panel from a running API). Statistics are numpy-only, with
normal approximations; every result carries its sample size and a note when the sample is
too small to say anything.

pandas is in the `local` extra: analytics run in the workbench and notebooks, never in a
Lambda function.
"""
