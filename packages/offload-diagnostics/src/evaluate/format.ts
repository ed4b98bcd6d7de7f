import type { ThresholdUnit } from '../thresholds/index.js';

const SUFFIX: Record<ThresholdUnit, string> = {
  seconds: ' s',
  minutes: ' min',
  milliseconds: ' ms',
  percent: '%',
  rows_per_second: ' rows/s',
  rows_per_hour: ' rows/h',
  rows_per_day: ' rows/day',
  bytes: '',
  bytes_per_hour: '/h',
  errors: ' errors',
  errors_per_minute: ' errors/min',
  parts: ' parts',
  cores: ' cores',
};

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${number.format(scaled)} ${units[unit]!}`;
}

/** `800 s`, `8,000 rows/s`, `1.5 GiB/h`: a value as a reason sentence shows it. */
export function formatValue(value: number, unit: ThresholdUnit): string {
  if (unit === 'bytes' || unit === 'bytes_per_hour') return `${bytes(value)}${SUFFIX[unit]}`;
  return `${number.format(value)}${SUFFIX[unit]}`;
}
