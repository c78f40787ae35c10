import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { attachmentType } from '../attachments.js';
import { attachment as disposition } from './sheets.js';

/** The 200 answer of a route sending an attachment back: documented only (Fastify serializes JSON answers alone). */
export const AttachmentResponse = {
  200: {
    description: 'the file',
    content: { 'application/octet-stream': { schema: z.any().meta({ type: 'string', format: 'binary' }) } },
  },
} as const;

/** Sends an attachment as it was uploaded, with its type and its name. */
export const sendAttachment = (reply: FastifyReply, file: { name: string; bytes: Buffer }): FastifyReply =>
  reply
    .header('content-type', attachmentType(file.name))
    .header('content-disposition', disposition(file.name))
    .send(file.bytes);
