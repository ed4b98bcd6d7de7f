export { RestCatalog } from './rest-catalog.js';
export type { RestCatalogOptions } from './rest-catalog.js';
export { bearerToken, clientCredentials, noAuth } from './auth.js';
export type { ClientCredentials, RestAuth } from './auth.js';
export { RestCatalogError } from './errors.js';
