// Testcontainers for Node: synthflow-mock for a test run (Node 18+, global fetch).
// npm install --save-dev testcontainers
// Build the image first: docker build -t synthflow-mock:local .
import { GenericContainer, Wait } from "testcontainers";

const container = await new GenericContainer("synthflow-mock:local")
  .withExposedPorts(8080)
  .withWaitStrategy(Wait.forHttp("/healthz", 8080).forStatusCode(200))
  .start();

try {
  const baseUrl = `http://${container.getHost()}:${container.getMappedPort(8080)}/v2`;
  const response = await fetch(`${baseUrl}/calls/3e0d8a52-c716-4f9b-8a24-6b5e13f7c9d0`, {
    headers: { Authorization: "Bearer any-token" },
  });
  const body = await response.json();
  console.log(response.status, body.response.calls[0].call_id);
} finally {
  await container.stop();
}
