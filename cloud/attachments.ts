import { z } from 'zod';

/**
 * A file a person attaches (a plan's signed scan, the evidence of a supervision answer): base64 in JSON, since
 * the API takes JSON bodies, within its body limit; a PDF or an image, named without a path.
 */
export const AttachmentSchema = z.strictObject({
  name: z.string().regex(/^[^/\\\r\n]{1,100}\.(pdf|jpg|jpeg|png)$/i, 'name is a file name ending .pdf, .jpg or .png'),
  base64: z.base64({ message: 'base64 is the file in base64' }).min(4),
});
export type Attachment = z.output<typeof AttachmentSchema>;

/** The media type of an attachment, from the extension its name was checked to have. */
export const attachmentType = (name: string): string =>
  /\.pdf$/i.test(name) ? 'application/pdf' : /\.png$/i.test(name) ? 'image/png' : 'image/jpeg';
