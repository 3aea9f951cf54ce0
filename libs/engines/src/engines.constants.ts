/** Injection token of the list of EngineProvider instances (one per engine type). */
export const ENGINE_PROVIDERS = Symbol('ENGINE_PROVIDERS');
