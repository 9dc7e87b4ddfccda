// Starts the vendored Swagger UI on /docs. A file, not an inline script, so the
// page keeps the Content-Security-Policy that forbids inline scripts.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  const target = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: target.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No validator badge: it would send the document to validator.swagger.io.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
