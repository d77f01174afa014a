"""Time derivative on a cftime calendar: a warming trend on a 'noleap' model calendar.

A seasonal cycle plus a trend of 0.03 K per year, sampled every 5 days on a 365-day calendar.
``grad.along("time", datetime_unit="D")`` gives K per day whatever the calendar or storage.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from _gallery import parse, save

import xgrad  # noqa: F401


def main() -> None:
    args = parse(__doc__.splitlines()[0], "time_derivative_cftime.png")
    years = 4 if args.fast else 20
    time = xr.date_range(
        "2000-01-01", periods=years * 73, freq="5D", calendar="noleap", use_cftime=True
    )
    days = np.arange(time.size) * 5.0
    trend, amp = 0.03 / 365.0, 8.0  # K per day; K
    temp = xr.DataArray(
        285.0 + trend * days + amp * np.sin(2 * np.pi * days / 365.0),
        dims="time",
        coords={"time": time},
        name="tas",
        attrs={"units": "K", "long_name": "surface air temperature"},
    ).chunk(time=73)
    rate = temp.grad.along("time", datetime_unit="D", accuracy=4)
    exact = trend + amp * 2 * np.pi / 365.0 * np.cos(2 * np.pi * days / 365.0)
    error = float(np.abs(rate.values - exact).max())
    print(f"units {rate.attrs['units']!r}; max error {error:.2e} K/day")

    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    x = days / 365.0
    ax0.plot(x, temp.values, color="tab:red")
    ax0.set_ylabel("tas [K]")
    ax0.set_title("Temperature on a noleap calendar and its time derivative (accuracy=4)")
    ax1.plot(x, rate.values, label="xgrad", color="tab:blue")
    ax1.plot(x, exact, "k:", label="analytic")
    ax1.set_ylabel(f"d tas / d time [{rate.attrs['units']}]")
    ax1.set_xlabel("model years since 2000-01-01 (365-day calendar)")
    ax1.legend(loc="upper right")
    save(fig, args.out)


if __name__ == "__main__":
    main()
