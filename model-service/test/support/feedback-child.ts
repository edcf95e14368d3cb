/**
 * Child process for the kill test: appends feedback records as fast as it can to FEEDBACK_DIR (file
 * `feedback-<FEEDBACK_WRITER_ID>.jsonl`) until it is killed, printing "writing" once the first record is
 * durable.
 */
import { FeedbackWriter } from '../../src/feedback/writer.js';

const writer = new FeedbackWriter(process.env.FEEDBACK_DIR!, 1024 * 1024 * 1024, {
  writerId: process.env.FEEDBACK_WRITER_ID,
});
let first = true;
for (let i = 0; ; i++) {
  // Records of varying size, some large, so a kill can land in the middle of any write.
  const text = `review ${i} ${'é🍕x'.repeat((i * 37) % 3000)}`;
  const pending = Array.from({ length: 8 }, (_, k) =>
    writer.append({ text: `${text} #${k}`, label: ((i + k) % 2) as 0 | 1, time: new Date().toISOString() }),
  );
  await Promise.all(pending);
  if (first) {
    process.stdout.write('writing\n');
    first = false;
  }
}
