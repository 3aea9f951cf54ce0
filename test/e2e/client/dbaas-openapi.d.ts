/**
 * Stand-in for the types openapi-typescript generates from the live document, so that the
 * repository-wide type-check resolves `dbaas-openapi`. openapi-client.e2e-spec.ts
 * compiles workflow.ts against freshly generated types instead (its own tsconfig).
 */
declare module 'dbaas-openapi' {
  export type paths = any;
}
