import { createHash } from 'node:crypto';
import { expectProblem, HttpClient } from './support/http-client';
import { startStack, TestStack } from './support/test-stack';

const pathOf = (url: string) => new URL(url).pathname;

/**
 * Issue 12, items 6 and 14, over the real API process: projects belong to a team (members
 * and dbas see and change them, anyone else gets 404, a database is filed only under a
 * project of its own team), and users change their own password.
 */
describe('team projects and password changes (e2e)', () => {
  let stack: TestStack;
  let http: HttpClient;
  /** `user` / 123456: regular, team `team1` (id 2). The admin is in team `dbaas` (id 1). */
  let regular: HttpClient;

  beforeAll(async () => {
    stack = await startStack();
    http = stack.http;
    regular = http.as('user:123456');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('projects', () => {
    /** A project of team dbaas, made by the admin. */
    let dbaasProject: string;

    beforeAll(async () => {
      const created = await http.post('/api/project/', { name: 'ops-tools', description: 'ops' });
      expect(created.status).toBe(201);
      dbaasProject = pathOf(created.body._links.self);
    });

    it("gives a project the caller's only team and shows it; the sample project is team dbaas's", async () => {
      const project = await http.get(dbaasProject);
      expect(project.body).toMatchObject({
        name: 'ops-tools',
        team: `${stack.api.baseUrl}/api/team/1/`,
      });
      const sample = await http.get('/api/project/1/');
      expect(sample.body).toMatchObject({
        name: 'sample-project',
        team: `${stack.api.baseUrl}/api/team/1/`,
      });
    });

    it("hides another team's project from a regular user: not listed, and 404 to read, rename or delete", async () => {
      const listed = await regular.get('/api/project/?page_size=100');
      expect(listed.status).toBe(200);
      expect(listed.body.project.map((p: { name: string }) => p.name)).not.toContain('ops-tools');
      expect(listed.body.project.map((p: { name: string }) => p.name)).not.toContain(
        'sample-project',
      );
      expectProblem(await regular.get(dbaasProject), 404);
      expectProblem(await regular.patch(dbaasProject, { name: 'stolen' }), 404);
      expectProblem(await regular.put(dbaasProject, { description: 'stolen' }), 404);
      expectProblem(await regular.delete(dbaasProject), 404);
      expect(
        await stack.metadata('SELECT name, description, team_id FROM project WHERE id = $1', [
          Number(dbaasProject.split('/')[3]),
        ]),
      ).toEqual([{ name: 'ops-tools', description: 'ops', team_id: 1 }]);
    });

    it("refuses to file a regular user's database under another team's project (400), on create and on PATCH/PUT, with nothing changed", async () => {
      const refused = await regular.post('/api/database/', {
        name: 'sneaky',
        plan: 1,
        environment: 1,
        project: dbaasProject,
      });
      expectProblem(refused, 400);
      expect(refused.body.errors).toEqual({ project: [expect.any(String)] });
      expect(await stack.metadata("SELECT id FROM database WHERE name = 'sneaky'")).toEqual([]);

      const own = await regular.post('/api/database/', {
        name: 'team1_plain',
        plan: 1,
        environment: 1,
      });
      expect(own.status).toBe(201);
      const path = pathOf(own.body._links.self);
      expectProblem(await regular.patch(path, { project: dbaasProject }), 400);
      expectProblem(await regular.put(path, { project: dbaasProject }), 400);
      expect((await regular.get(path)).body.project).toBeNull();
    });

    it("refuses a dba too when the project is not of the database's team", async () => {
      const teamDb = await regular.post('/api/database/', {
        name: 'team1_for_dba',
        plan: 1,
        environment: 1,
      });
      expect(teamDb.status).toBe(201);
      const answer = await http.patch(pathOf(teamDb.body._links.self), { project: dbaasProject });
      expectProblem(answer, 400);
      expect((await http.get(pathOf(teamDb.body._links.self))).body.project).toBeNull();
    });

    it('lets a member of the team see, rename and file databases under the project', async () => {
      const made = await http.post('/api/user/', {
        username: 'member',
        password: 'member-pw',
        role: 'regular',
        teams: [1],
      });
      expect(made.status).toBe(201);
      const member = http.as('member:member-pw');
      expect((await member.get(dbaasProject)).status).toBe(200);
      const listed = await member.get('/api/project/?page_size=100');
      expect(listed.body.project.map((p: { name: string }) => p.name)).toEqual([
        'sample-project',
        'ops-tools',
      ]);
      const renamed = await member.patch(dbaasProject, { name: 'ops-tools2' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe('ops-tools2');
      const filed = await member.post('/api/database/', {
        name: 'member_db',
        plan: 1,
        environment: 1,
        project: dbaasProject,
      });
      expect(filed.status).toBe(201);
      expect(filed.body.project).toBe(`${stack.api.baseUrl}${dbaasProject}`);
      // Filed databases keep the project in place: it cannot go or change team meanwhile.
      expectProblem(await member.delete(dbaasProject), 409);
      expectProblem(await http.patch(dbaasProject, { team: 2 }), 409);
      expect((await http.get(dbaasProject)).body.team).toBe(`${stack.api.baseUrl}/api/team/1/`);
    });

    it("lets a dba see, rename and delete another team's project, and make one for any team", async () => {
      const mine = await regular.post('/api/project/', { name: 'team1-project' });
      expect(mine.status).toBe(201);
      expect(mine.body.team).toBe(`${stack.api.baseUrl}/api/team/2/`);
      const path = pathOf(mine.body._links.self);
      expect(
        (await http.get('/api/project/?page_size=100')).body.project.map(
          (p: { name: string }) => p.name,
        ),
      ).toContain('team1-project');
      expect((await http.put(path, { description: 'by the dba' })).body.description).toBe(
        'by the dba',
      );
      expect((await http.delete(path)).status).toBe(204);
      expectProblem(await regular.get(path), 404);

      const forTeam1 = await http.post('/api/project/', {
        name: 'given-to-team1',
        team: '/api/team/2/',
      });
      expect(forTeam1.status).toBe(201);
      expect((await regular.get(pathOf(forTeam1.body._links.self))).body.name).toBe(
        'given-to-team1',
      );
      // A dba files a database of team1 under team1's project.
      const filed = await http.post('/api/database/', {
        name: 'dba_filed',
        plan: 1,
        environment: 1,
        team: 2,
        project: forTeam1.body._links.self,
      });
      expect(filed.status).toBe(201);
      expect(filed.body.project).toBe(forTeam1.body._links.self);
    });

    it('refuses a team the caller is not in (400, nothing made) and requires one from a caller in several teams', async () => {
      const foreign = await regular.post('/api/project/', { name: 'in-dbaas', team: 1 });
      expectProblem(foreign, 400);
      expect(foreign.body.errors).toEqual({ team: ['you are not a member of this team'] });
      expect(await stack.metadata("SELECT id FROM project WHERE name = 'in-dbaas'")).toEqual([]);

      expect(
        (
          await http.post('/api/user/', {
            username: 'twoteams',
            password: 'twoteams-pw',
            role: 'regular',
            teams: [1, 2],
          })
        ).status,
      ).toBe(201);
      const both = http.as('twoteams:twoteams-pw');
      const unsaid = await both.post('/api/project/', { name: 'which-team' });
      expectProblem(unsaid, 400);
      expect(unsaid.body.errors).toEqual({ team: ['is required: you belong to 2 teams'] });
      expect((await both.post('/api/project/', { name: 'which-team', team: 2 })).status).toBe(201);
    });

    it('keeps names unique per team: the same name in two teams, a 409 within one', async () => {
      expect((await regular.post('/api/project/', { name: 'shared-name' })).status).toBe(201);
      expect((await http.post('/api/project/', { name: 'shared-name' })).status).toBe(201);
      expectProblem(await regular.post('/api/project/', { name: 'shared-name' }), 409);
    });

    it('keeps a team while it owns projects: its delete is a 409 until they are gone', async () => {
      const team = await http.post('/api/team/', { name: 'short-lived' });
      expect(team.status).toBe(201);
      const teamPath = pathOf(team.body._links.self);
      const project = await http.post('/api/project/', { name: 'keeps-team', team: teamPath });
      expect(project.status).toBe(201);
      expectProblem(await http.delete(teamPath), 409);
      expect((await http.delete(pathOf(project.body._links.self))).status).toBe(204);
      expect((await http.delete(teamPath)).status).toBe(204);
    });
  });

  describe('password change', () => {
    beforeAll(async () => {
      for (const username of ['carol', 'erin', 'frank']) {
        const made = await http.post('/api/user/', {
          username,
          password: `${username}-first`,
          role: 'regular',
          teams: [2],
        });
        expect(made.status).toBe(201);
      }
    });

    const idOf = async (username: string) =>
      Number(
        (
          await stack.metadata<{ id: number }>('SELECT id FROM "user" WHERE username = $1', [
            username,
          ])
        )[0].id,
      );

    it('changes your own password with the right current one: 204, the old one 401 at once, the new one works', async () => {
      const id = await idOf('carol');
      // A login the API remembers, so the change must drop it.
      expect((await http.as('carol:carol-first').get(`/api/user/${id}/`)).status).toBe(200);

      const changed = await http.as('carol:carol-first').post(`/api/user/${id}/password/`, {
        current_password: 'carol-first',
        password: 'carol-second',
      });
      expect(changed.status).toBe(204);
      expect(changed.text).toBe('');

      expectProblem(await http.as('carol:carol-first').get(`/api/user/${id}/`), 401);
      expect((await http.as('carol:carol-second').get(`/api/user/${id}/`)).status).toBe(200);
    });

    it('refuses a wrong or missing current password, a too-short new one, and changes nothing', async () => {
      const id = await idOf('erin');
      const before = await stack.metadata('SELECT password_hash FROM "user" WHERE id = $1', [id]);
      const erin = http.as('erin:erin-first');

      const wrong = await erin.post(`/api/user/${id}/password/`, {
        current_password: 'not-it',
        password: 'erin-second',
      });
      expectProblem(wrong, 400);
      expect(wrong.body.errors).toEqual({ current_password: ['is not the current password'] });
      expectProblem(await erin.post(`/api/user/${id}/password/`, { password: 'erin-second' }), 400);
      // null is not "left out": a 400 on the field, never a 500.
      const nulled = await erin.post(`/api/user/${id}/password/`, {
        current_password: null,
        password: 'erin-second',
      });
      expectProblem(nulled, 400);
      expect(Object.keys(nulled.body.errors)).toEqual(['current_password']);
      const short = await erin.post(`/api/user/${id}/password/`, {
        current_password: 'erin-first',
        password: 'abc',
      });
      expectProblem(short, 400);
      expect(Object.keys(short.body.errors)).toEqual(['password']);

      expect(await stack.metadata('SELECT password_hash FROM "user" WHERE id = $1', [id])).toEqual(
        before,
      );
      expect((await erin.get(`/api/user/${id}/`)).status).toBe(200);
      expectProblem(await http.as('erin:erin-second').get(`/api/user/${id}/`), 401);
    });

    it("answers 404 to a regular user for another user's password, and changes nothing", async () => {
      const id = await idOf('frank');
      const attempt = await regular.post(`/api/user/${id}/password/`, {
        current_password: 'frank-first',
        password: 'taken-over',
      });
      expectProblem(attempt, 404);
      expectProblem(
        await regular.post('/api/user/99999/password/', {
          current_password: 'x',
          password: 'taken-over',
        }),
        404,
      );
      expect((await http.as('frank:frank-first').get(`/api/user/${id}/`)).status).toBe(200);
    });

    it("lets a dba change another user's password without the current one", async () => {
      const id = await idOf('frank');
      expect((await http.as('frank:frank-first').get('/api/plan/')).status).toBe(200);

      const changed = await http.post(`/api/user/${id}/password/`, { password: 'frank-by-dba' });
      expect(changed.status).toBe(204);

      expectProblem(await http.as('frank:frank-first').get('/api/plan/'), 401);
      expect((await http.as('frank:frank-by-dba').get('/api/plan/')).status).toBe(200);
    });

    it('keeps no plain hash of a password in the Idempotency-Key record (a keyed digest instead)', async () => {
      const id = await idOf('erin');
      const body = { password: 'erin-by-dba' };
      const key = 'password-change-erin';
      const changed = await http.post(`/api/user/${id}/password/`, body, {
        headers: { 'Idempotency-Key': key },
      });
      expect(changed.status).toBe(204);
      const [stored] = await stack.metadata<{ fingerprint: string }>(
        'SELECT fingerprint FROM idempotency_key WHERE key = $1',
        [key],
      );
      const plain = createHash('sha256')
        .update(`POST /api/user/${id}/password\n${JSON.stringify(body)}`)
        .digest('hex');
      expect(stored.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(stored.fingerprint).not.toBe(plain);
      // The same request with the same key is still recognised: replayed, not refused.
      const again = await http.post(`/api/user/${id}/password/`, body, {
        headers: { 'Idempotency-Key': key },
      });
      expect(again.status).toBe(204);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    });
  });
});
