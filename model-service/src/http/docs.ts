/**
 * `/docs`: Swagger UI showing this service's OpenAPI document (`/openapi.json`) and nothing else.
 *
 * Only the files the page needs are served, from swagger-ui-dist (the package swagger-ui-express
 * depends on): its stock `index.html` and `swagger-initializer.js`, which load the Petstore example, are
 * never served, and any other `/docs/...` path falls through to the app's JSON 404.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { requestPath } from '@restaurant-sentiment/lib-service';
import express, { type Request, type Response } from 'express';

const require = createRequire(import.meta.url);

/** swagger-ui-dist's folder, resolved as swagger-ui-express's own dependency. */
function swaggerUiDistDir(): string {
  const fromExpress = createRequire(require.resolve('swagger-ui-express'));
  return path.dirname(fromExpress.resolve('swagger-ui-dist/package.json'));
}

/** Files of swagger-ui-dist the page loads (names as in the package). */
export const DOCS_ASSETS = [
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'favicon-32x32.png',
  'favicon-16x16.png',
] as const;

/**
 * The page. Relative URLs throughout, so it works behind a proxy that mounts the service under a path
 * prefix; the spec is `../openapi.json` relative to `/docs/`.
 */
export function docsHtml(title: string): string {
  const escaped = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escaped}</title>
<link rel="stylesheet" href="swagger-ui.css">
<link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="docs-init.js"></script>
</body>
</html>
`;
}

/**
 * The script that starts Swagger UI on our spec. BaseLayout has no "explore" box, the validator badge
 * (which would call validator.swagger.io) is off, and `?url=` query parameters are ignored.
 */
export const DOCS_INIT_JS = `window.ui = SwaggerUIBundle({
  url: '../openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  queryConfigEnabled: false,
});
`;

/**
 * Adds the `/docs` routes to `app` (as app routes, so a wrong method gets the app's 405): `GET /docs`
 * redirects to `/docs/` (so relative URLs resolve), `GET /docs/` is the page, `GET /docs/docs-init.js`
 * and `/docs/<asset>` ({@link DOCS_ASSETS}) its files. Any other `/docs/...` path matches nothing here
 * and gets the app's 404.
 * @param title the page title.
 */
export function addDocsRoutes(app: express.Express, title = 'model-service API'): void {
  const dist = swaggerUiDistDir();
  const html = docsHtml(title);
  // Express matches "/docs" and "/docs/" alike (non-strict routing): the raw URL tells them apart.
  app.get('/docs', (req: Request, res: Response) => {
    if (!requestPath(req).endsWith('/')) {
      res.redirect(301, 'docs/');
      return;
    }
    res.type('html').send(html);
  });
  app.get('/docs/docs-init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT_JS);
  });
  for (const name of DOCS_ASSETS) {
    app.get(`/docs/${name}`, (_req, res, next) => {
      res.sendFile(path.join(dist, name), { maxAge: '1d' }, (error) => error && next(error));
    });
  }
}
