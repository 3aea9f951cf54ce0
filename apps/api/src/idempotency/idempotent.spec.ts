import { RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { API_CONTROLLERS } from '../app.module';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** Every route handler of every API controller, with its HTTP method and interceptors. */
function routes() {
  return API_CONTROLLERS.flatMap((controller) => {
    const prototype = controller.prototype as Record<string, unknown>;
    return Object.getOwnPropertyNames(prototype)
      .map((name) => ({ name: `${controller.name}.${name}`, handler: prototype[name] }))
      .filter(({ handler }) => typeof handler === 'function')
      .map(({ name, handler }) => ({
        name,
        method: Reflect.getMetadata(METHOD_METADATA, handler as object) as
          RequestMethod | undefined,
        interceptors: (Reflect.getMetadata(INTERCEPTORS_METADATA, handler as object) ??
          []) as unknown[],
      }))
      .filter((route) => route.method !== undefined);
  });
}

describe('Idempotency-Key on every POST', () => {
  it('binds the interceptor to every POST route (@Post() with @Idempotent()), and only to those', () => {
    const all = routes();
    const posts = all.filter((route) => route.method === RequestMethod.POST);
    // databases, restore, credentials, reset_password and one per catalog resource
    expect(posts.length).toBeGreaterThanOrEqual(5);
    for (const route of posts) {
      expect({ route: route.name, interceptors: route.interceptors }).toEqual({
        route: route.name,
        interceptors: [IdempotencyInterceptor],
      });
    }
    // Any interceptor makes Nest run the route through RxJS and AsyncResource.bind.
    for (const route of all.filter((r) => r.method !== RequestMethod.POST)) {
      expect({ route: route.name, interceptors: route.interceptors }).toEqual({
        route: route.name,
        interceptors: [],
      });
    }
  });
});
