// The console end to end in real Chromium: an employee asks for something that needs approval,
// an IT admin approves it in another browser context, the change runs, the employee sees the
// result without reloading, and the admin's audit view shows the records; then the admin hands
// Steward an API's OpenAPI document ($API_DOCUMENT) in the chat, imports it again with its secret
// in the Integrations form, accepts the policies Steward proposes and runs one of its actions
// ($API_ISSUE at $API_BASE_URL). Screenshots of the main pages go to $SCREENSHOTS. Run by crates/cli/tests/suite/browser.rs against a live console.
import { chromium } from "playwright-core";

const base = process.env.STEWARD_URL;
const shots = process.env.SCREENSHOTS;
if (!base || !shots) {
  console.error("STEWARD_URL and SCREENSHOTS must be set");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const step = (what) => console.log(`· ${what}`);

async function signIn(context, who, password) {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${base}/console`);
  await page.getByRole("link", { name: "Sign in" }).click();
  // The identity provider's own sign-in page.
  await page.getByLabel("Email").fill(who);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/console`);
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

try {
  step("the employee signs in and asks");
  const employee = await signIn(await browser.newContext(), "jamal@larkspur.example", "Demo-Jamal-2026!");
  await employee.getByLabel("What's wrong?").fill("got a new phone, need to set up the authenticator again");
  await employee.getByRole("button", { name: "Send" }).click();
  await employee.getByRole("status").getByText("awaitingApproval").waitFor();
  if (await employee.getByRole("heading", { name: "Approval queue" }).isVisible()) {
    throw new Error("an employee sees the admin view");
  }
  await employee.screenshot({ path: `${shots}/employee-waiting.png`, fullPage: true });

  step("an IT admin approves in another browser context");
  const admin = await signIn(await browser.newContext(), "nestor@larkspur.example", "Demo-Nestor-2026!");
  const approve = admin.getByRole("button", { name: /^Approve .* for jamal@larkspur\.example$/ });
  await approve.first().waitFor();
  await admin.screenshot({ path: `${shots}/admin-approval-queue.png`, fullPage: true });
  // One approval per change the request needs (an MFA reset removes each method): approve all.
  for (let i = 0; i < 10 && (await approve.count()) > 0; i++) {
    await approve.first().click();
    await admin.waitForTimeout(1_500);
  }
  if ((await approve.count()) > 0) throw new Error("approvals remain after approving them all");

  step("the employee sees the result without reloading");
  await employee.getByRole("cell", { name: "resolved", exact: true }).first().waitFor();
  await employee.screenshot({ path: `${shots}/employee-resolved.png`, fullPage: true });

  step("the audit view shows the records");
  await admin.getByRole("cell", { name: "approvalDecided", exact: true }).first().waitFor();
  await admin.getByText("(chain verified)").waitFor();
  await admin.screenshot({ path: `${shots}/admin-audit.png`, fullPage: true });

  step("the admin hands Steward an API document in the chat");
  await admin.getByLabel("What's wrong?").fill(`please connect our Jira as jiraops at ${process.env.API_BASE_URL}`);
  await admin.getByLabel("Attach an API document (OpenAPI or Swagger)").setInputFiles(process.env.API_DOCUMENT);
  await admin.getByRole("button", { name: "Send" }).click();
  await admin.getByRole("status").getByText("I saved it as `jiraops`, disabled").waitFor();
  await admin.getByLabel("Proposed policies for jiraops").waitFor();
  await admin.screenshot({ path: `${shots}/admin-chat-import.png`, fullPage: true });

  step("the admin gives its secret in the Integrations form, accepts its policies and runs one of its actions");
  const form = admin.locator("#import-form");
  await form.getByLabel("Name").fill("jiraops");
  await form.getByLabel("Base URL").fill(process.env.API_BASE_URL);
  await form.getByLabel("API document").setInputFiles(process.env.API_DOCUMENT);
  await form.getByLabel("Secret").fill("steward@larkspur.example:jira-api-token-7Q");
  await form.getByRole("button", { name: "Import" }).click();
  await admin.getByLabel("Proposed policies for jiraops").waitFor();
  await admin.getByRole("button", { name: "Accept these policies and enable jiraops" }).click();
  await admin.getByText("jiraops enabled by nestor@larkspur.example").waitFor();
  const run = admin.locator("#run-form");
  await run.getByLabel("Action").selectOption("jiraops.issue.get_issue");
  await run.getByLabel("Arguments (JSON)").fill(JSON.stringify({ issueIdOrKey: process.env.API_ISSUE }));
  await run.getByRole("button", { name: "Run" }).click();
  await admin.locator("#ran").getByText("Badge reader at the lobby is dead").waitFor();
  await admin.screenshot({ path: `${shots}/admin-integration.png`, fullPage: true });
  step("done");
} catch (e) {
  console.error(`browser test failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
