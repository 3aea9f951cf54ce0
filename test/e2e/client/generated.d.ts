/**
 * Stand-in for the client openapi-typescript-codegen generates into `generated/`, so that the
 * repository-wide type-check resolves `./generated` in codegen-workflow.ts.
 * openapi-client.e2e-spec.ts compiles codegen-workflow.ts against the freshly generated
 * client instead (its own directory, its own tsconfig).
 */
export declare class ApiError extends Error {
  readonly status: number;
  readonly body: any;
}
export declare const DbaasClient: any;
