import { parseReference } from './reference';

describe('parseReference', () => {
  it.each([
    [1, 1],
    ['7', 7],
    ['/api/plan/3/', 3],
    ['/api/plan/3', 3],
    ['http://localhost:8000/api/plan/12/', 12],
    ['https://dbaas.example.com/api/plan/5', 5],
  ])('reads %j as %j', (value, id) => {
    expect(parseReference(value, 'plan')).toBe(id);
  });

  it.each([
    ['/api/engine/1/'],
    ['/api/plan/x/'],
    ['plan'],
    [1.5],
    [null],
    [{}],
    [['1']],
    ['http://[bad'],
    ['/api/plan/1/extra'],
  ])('refuses %j', (value) => {
    expect(parseReference(value, 'plan')).toBeNaN();
  });
});
