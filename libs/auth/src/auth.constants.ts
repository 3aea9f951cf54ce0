/** The realm of the `WWW-Authenticate: Basic` challenge. */
export const BASIC_REALM = 'dbaas';
/** Name of the security scheme in the OpenAPI document. */
export const BASIC_SECURITY_SCHEME = 'basic';
