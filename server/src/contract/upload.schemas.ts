import { Type } from 'typebox';
import { pageLimit } from './common.js';

const EXAMPLE_UPLOAD = {
  id: 'k3J9aQ2xZp',
  name: 'screenshot.png',
  url: 'http://localhost:3000/k3J9aQ2xZp',
  raw_url: 'http://localhost:3000/i/k3J9aQ2xZp.png',
  thumbnail_url: 'http://localhost:3000/t/k3J9aQ2xZp.webp',
  delete_url: 'http://localhost:3000/d/k3J9aQ2xZp/Vn2oQ7xLc4RtY8sKp1ZdW6mB3hFj9aEu',
  mime: 'image/png',
  size: 48213,
  width: 1280,
  height: 720,
  sha256: '5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef',
  created_at: '2026-11-27T10:00:00.000Z',
};

/** The upload object (SPEC.md): every endpoint that shows an upload shows this. */
export const UploadResponse = Type.Object(
  {
    id: Type.String({ description: 'Random, URL-safe, unguessable' }),
    name: Type.String({ description: 'The original file name, sanitised (no path parts, no control characters)' }),
    url: Type.String({ description: 'Share page: the link to paste in Discord (rich embed)' }),
    raw_url: Type.String({ description: 'The bytes, with their Content-Type' }),
    thumbnail_url: Type.String({ description: 'A WebP within 400x400 pixels' }),
    delete_url: Type.String({ description: 'Deletion link: a confirmation page on GET, deletes on POST; anyone holding it can delete' }),
    mime: Type.String({ description: 'image/png, image/jpeg, image/gif or image/webp' }),
    size: Type.Integer({ description: 'Bytes stored (metadata stripped)' }),
    width: Type.Integer({ description: 'Pixels' }),
    height: Type.Integer({ description: 'Pixels' }),
    sha256: Type.String({ description: 'Hex SHA-256 of the stored bytes' }),
    created_at: Type.String({ description: 'ISO 8601, UTC' }),
  },
  { examples: [EXAMPLE_UPLOAD] },
);

/** POST /api/upload's answer: one upload per files[] part, in request order. */
export const UploadCreatedResponse = Type.Object({ files: Type.Array(UploadResponse) }, { examples: [{ files: [EXAMPLE_UPLOAD] }] });

const binary = (description: string) => Type.String({ contentMediaType: 'application/octet-stream', description });
const override = (field: string) =>
  Type.Optional(Type.String({ description: `This upload's ${field} template (empty = keep the account's)` }));

/**
 * POST /api/upload's multipart/form-data body, for the document only: the route streams the
 * parts itself (Fastify never validates a multipart body against a schema).
 */
export const UploadForm = Type.Object({
  'files[]': Type.Optional(Type.Array(binary('An image: PNG, JPEG, GIF or WebP'), { description: 'One part per image, stored in order' })),
  file: Type.Optional(binary('Alias of files[] for clients that send one image')),
  embed_title: override('embed title'),
  embed_description: override('embed description'),
  embed_site_name: override('embed site name'),
  embed_author: override('embed author'),
  embed_color: Type.Optional(Type.String({ description: 'This upload\'s embed colour: "auto" or #rrggbb (empty = keep the account\'s)' })),
});

/** The x-embed-* headers POST /api/upload also reads (UTF-8, as ShareX sends them); form fields win. */
export const EmbedHeaders = Type.Object({
  'x-embed-title': override('embed title'),
  'x-embed-description': override('embed description'),
  'x-embed-site-name': override('embed site name'),
  'x-embed-author': override('embed author'),
  'x-embed-color': Type.Optional(Type.String({ description: '"auto" or #rrggbb' })),
});

export const UploadListQuery = Type.Object(
  {
    limit: pageLimit('Uploads'),
    before: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'An upload id: the page starts after it (from the Link header)' }),
    ),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'Only uploads whose name contains this text, in any case (% and _ are plain characters)',
      }),
    ),
  },
  { additionalProperties: false },
);
