// Lint: typescript-eslint's type-aware rules plus Pulumi's Output-in-template checks.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", ".local/**", ".bench/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The committed bin shims are plain CommonJS.
    files: ["**/bin/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Imports flow one way; the SCD2 job stands alone and shares only common/ with the other parts.
    files: ["analytics/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              // Two or more levels up (out of analytics/src) to anything but common/, or a workspace.
              regex: "^\\.\\./(\\.\\./)+(?!\\.\\./|common/)|^@cdc/",
              message: "analytics may import common/ and nothing else of the other parts",
            },
          ],
        },
      ],
    },
  },
  {
    // common/ is imported by every part and imports none of them.
    files: ["common/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["../*", "@cdc/*"], message: "common/ imports no other part" }] },
      ],
    },
  },
);
