import { ValidationFailedError } from '@dbaas/core';
import { strictValidationPipe } from '../http/validation.pipe';
import {
  CreateServiceBindingDto,
  CreateServiceInstanceDto,
  toBindRequest,
  toProvisionRequest,
} from './broker-requests.dto';

const OFFER = { service_id: 's-1', plan_id: 'p-1' };
const ORG = { organization_guid: 'o-1', space_guid: 'sp-1' };

/** The body as the global strict pipe hands it to the controller, or the fields it refuses. */
async function parse<T>(type: new () => T, body: unknown): Promise<T | Record<string, string[]>> {
  try {
    return (await strictValidationPipe().transform(body, { type: 'body', metatype: type })) as T;
  } catch (error) {
    if (error instanceof ValidationFailedError) return error.errors;
    throw error;
  }
}

describe('broker request DTOs', () => {
  it('ignores extension fields of a provisioning request and keeps its parameters as sent', async () => {
    const body = await parse(CreateServiceInstanceDto, {
      ...OFFER,
      ...ORG,
      'x-vendor': { a: 1 },
      context: { platform: 'cloudfoundry' },
      parameters: { name: 'orders', team: 2 },
    });
    expect(body).toBeInstanceOf(CreateServiceInstanceDto);
    expect(body).not.toHaveProperty('x-vendor');
    expect(toProvisionRequest(body as CreateServiceInstanceDto)).toEqual({
      serviceId: 's-1',
      planId: 'p-1',
      organizationGuid: 'o-1',
      spaceGuid: 'sp-1',
      context: { platform: 'cloudfoundry' },
      parameters: { name: 'orders', team: 2 },
    });
  });

  it('refuses unknown or ill-typed provisioning parameters, and null ones', async () => {
    const refused = async (parameters: unknown) =>
      Object.keys(await parse(CreateServiceInstanceDto, { ...OFFER, ...ORG, parameters }));
    expect(await refused({ size: 10 })).toEqual(['parameters.size']);
    expect(await refused({ team: 'one' })).toEqual(['parameters.team']);
    expect(await refused({ project: 0 })).toEqual(['parameters.project']);
    expect(await refused({ name: null })).toEqual(['parameters.name']);
    expect(await refused({ description: 'x'.repeat(1001) })).toEqual(['parameters.description']);
    expect(await refused('name=x')).toContain('parameters');
  });

  it('refuses a provisioning request without its required fields, or not an object', async () => {
    expect(Object.keys(await parse(CreateServiceInstanceDto, { ...OFFER }))).toEqual([
      'organization_guid',
      'space_guid',
    ]);
    expect(await parse(CreateServiceInstanceDto, [OFFER])).toEqual({
      body: ['must be a JSON object'],
    });
  });

  it('takes binding privileges from the catalog’s list only; unknown parameters are refused', async () => {
    const bind = async (parameters: unknown) =>
      parse(CreateServiceBindingDto, { ...OFFER, parameters, extension: true });
    const body = (await bind({ privileges: 'read-only' })) as CreateServiceBindingDto;
    expect(toBindRequest(body)).toEqual({
      serviceId: 's-1',
      planId: 'p-1',
      parameters: { privileges: 'read-only' },
    });
    expect(Object.keys(await bind({ privileges: 'root' }))).toEqual(['parameters.privileges']);
    expect(Object.keys(await bind({ other: 1 }))).toEqual(['parameters.other']);
  });
});
