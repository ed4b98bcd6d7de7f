import { randomBytes } from 'node:crypto';

/** A random positive 63-bit snapshot id, as Iceberg derives one from a random UUID. */
export function newSnapshotId(): bigint {
  const id = BigInt.asUintN(63, randomBytes(8).readBigUInt64BE(0));
  return id === 0n ? 1n : id;
}
