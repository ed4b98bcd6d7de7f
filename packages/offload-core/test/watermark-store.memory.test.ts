import { InMemoryWatermarkStore } from '../src/testing/memory-store.js';
import { describeWatermarkStoreConformance } from './watermark-store.conformance.js';

describeWatermarkStoreConformance('InMemoryWatermarkStore', async (clock) => new InMemoryWatermarkStore({ clock }));
