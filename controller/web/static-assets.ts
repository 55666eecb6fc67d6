/**
 * The built UI (index.html, app.js, app.css, favicon.svg from dist/web) read once at start and served
 * from memory with a strong ETag: a handful of small fixed files, so no file-serving library and no
 * path handling that could reach outside the folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FleetpassError } from '../../shared/errors';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** Registers GET routes for the UI files; throws FP_WEB_ASSETS_MISSING when the build is not there. */
export function registerStaticAssets(app: FastifyInstance, dir: string): void {
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const path = join(dir, file);
    if (!existsSync(path))
      throw new FleetpassError('FP_WEB_ASSETS_MISSING', `${path} is missing; run \`npm run build\``);
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    app.get(route, async (req, reply) => {
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    });
  }
}
