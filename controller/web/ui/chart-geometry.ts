/** Pure bar-chart geometry (no DOM), so it can be unit-tested: grouped bars per day, a shared y scale. */

export interface Bar {
  series: number;
  day: number;
  value: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Geometry {
  bars: Bar[];
  /** The value at the top of the plot (a "nice" ceiling of the largest value, at least 1). */
  max: number;
  plot: { left: number; top: number; width: number; height: number };
}

/** A round number ≥ v: 1, 2, 5, 10, 20, 50, ... */
export function niceCeiling(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Lays out `series[s][day]` as grouped bars in a width × height box with room for labels. */
export function barGeometry(series: number[][], width: number, height: number, sharedMax?: number): Geometry {
  const plot = { left: 28, top: 6, width: width - 34, height: height - 26 };
  const days = Math.max(1, ...series.map((s) => s.length));
  const max = niceCeiling(sharedMax ?? Math.max(0, ...series.flat()));
  const slot = plot.width / days;
  const barWidth = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
  const bars: Bar[] = [];
  series.forEach((values, s) => {
    values.forEach((value, day) => {
      if (value <= 0) return;
      const h = (value / max) * plot.height;
      bars.push({
        series: s,
        day,
        value,
        x: plot.left + day * slot + slot * 0.1 + s * barWidth,
        y: plot.top + plot.height - h,
        width: barWidth,
        height: h,
      });
    });
  });
  return { bars, max, plot };
}
