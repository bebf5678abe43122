// Calls to the REST API. A failure becomes an ApiError that says in words what
// went wrong: the API's own title and description when it answered, the network
// failure when it did not.

export class ApiError extends Error {
  constructor(status, title, description) {
    super(description ? `${title}: ${description}` : title);
    this.status = status;
    this.title = title;
    this.description = description;
  }

  // "the API answered 503 Service unavailable (A backing service did not answer)"
  get explanation() {
    if (this.status === 0) return `the API did not answer (${this.description})`;
    const detail = this.description ? ` (${this.description})` : "";
    return `the API answered ${this.status} ${this.title}${detail}`;
  }
}

export async function request(method, path, { token = "", body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, "No answer", error.message || "the network request failed");
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(
      response.status,
      (payload && payload.title) || response.statusText || "Error",
      (payload && payload.description) || "",
    );
  }
  return payload;
}

export const getJson = (path) => request("GET", path);
