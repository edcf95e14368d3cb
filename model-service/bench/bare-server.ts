/**
 * The baseline of `npm run bench:model-service`: a bare Express 5 JSON endpoint (parse the body, answer a
 * fixed prediction-shaped object), started as its own process so it gets the same CPU as model-service.
 */
import express from 'express';

const app = express();
app.use(express.json({ limit: '64kb' }));
app.post('/predict', (req, res) => {
  res.json({
    label: 1,
    sentiment: 'positive',
    score: 0.5,
    modelVersion: 'bare',
    chars: String(req.body?.text).length,
  });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
