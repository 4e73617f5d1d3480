// End-to-end walk through the web pages with headless Chromium (Debian's, driven by
// playwright-core): the admin signs in, creates a company and invites a manager; the manager
// accepts the invitation and invites an employee. A screenshot of each page goes to SHOTS.
//
// Usage: node flow.mjs BASE_URL ADMIN_EMAIL ADMIN_PASSWORD SHOTS_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, adminEmail, adminPassword, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const failures = [];
try {
  const shot = async (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  const expectText = async (page, text) => {
    const body = await page.textContent("body");
    if (!body.includes(text)) throw new Error(`expected "${text}" on ${page.url()}`);
  };
  const csp = [];

  // The admin.
  const admin = await browser.newPage({ locale: "pt-BR" });
  admin.on("console", (m) => { if (m.type() === "error") csp.push(m.text()); });
  await admin.goto(`${base}/signin`);
  await shot(admin, "01-signin");
  await admin.fill('input[name="email"]', adminEmail);
  await admin.fill('input[name="password"]', adminPassword);
  await Promise.all([admin.waitForURL(`${base}/admin`), admin.click('button[type="submit"] >> text=Entrar')]);
  await shot(admin, "02-admin");
  await admin.fill('form[action="/admin/companies"] input[name="name"]', "Empresa E2E");
  await admin.fill('form[action="/admin/companies"] input[name="seats"]', "5");
  await Promise.all([admin.waitForURL(/\/admin\/companies\/\d+/), admin.click('form[action="/admin/companies"] button[type="submit"]')]);
  await shot(admin, "03-company");
  await Promise.all([admin.waitForURL(/\/manager\?company=/), admin.click("text=Pessoas")]);
  await admin.fill('form[action="/manager/invite"] input[name="email"]', "gestora@e2e.test");
  await admin.selectOption('form[action="/manager/invite"] select[name="role"]', "manager");
  await Promise.all([admin.waitForURL(/notice=invited/), admin.click('form[action="/manager/invite"] button[type="submit"]')]);
  await shot(admin, "04-invitation-link");
  const managerLink = (await admin.textContent("p.notice code")).trim();

  // The manager accepts in a separate browser context.
  const managerContext = await browser.newContext({ locale: "pt-BR" });
  const manager = await managerContext.newPage();
  manager.on("console", (m) => { if (m.type() === "error") csp.push(m.text()); });
  await manager.goto(managerLink);
  await expectText(manager, "Empresa E2E");
  await shot(manager, "05-accept-invitation");
  await manager.fill('input[name="name"]', "Gestora E2E");
  await manager.fill('input[name="password"]', "gestora-senha-forte-1");
  await Promise.all([manager.waitForURL(`${base}/manager`), manager.click('button[type="submit"] >> text=Criar minha conta')]);
  await shot(manager, "06-manager");
  await manager.fill('form[action="/manager/invite"] input[name="email"]', "pessoa@e2e.test");
  await Promise.all([manager.waitForURL(/notice=invited/), manager.click('form[action="/manager/invite"] button[type="submit"]')]);
  await expectText(manager, "pessoa@e2e.test");
  await shot(manager, "07-employee-invited");

  // The chat page works for the manager too (offline responder).
  await manager.goto(`${base}/chat`);
  await manager.fill("#message", "Como posso dormir melhor?");
  await manager.click("#send");
  await manager.waitForSelector(".message.theirs .sources", { timeout: 15000 }).catch(() => {});
  await shot(manager, "08-chat");
  if (csp.length) failures.push(`console errors: ${csp.join(" | ")}`);
} catch (e) {
  failures.push(String(e && e.stack || e));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("e2e ok");
