// End-to-end walk through the safety plan with headless Chromium: a person signs up, opens their
// plan from the chat page, fills several steps, saves, sees them after a reload, downloads the
// Markdown export, follows the crisis card's link after a risky message, and deletes the
// plan. Screenshots at 1280 and 390 px wide go to SHOTS.
//
// Usage: node safety_plan.mjs BASE_URL SHOTS_DIR
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const steps = {
  warning_signs: "Fico acordada até tarde\nParo de responder as mensagens",
  coping_strategies: "Respirar 4-6 por cinco minutos\nTomar um banho morno",
  people_to_ask: "Minha tia Lúcia (11) 98888-7777",
  reasons_for_living: "Meu gato Feijão e a viagem para Ouro Preto",
};
const failures = [];
try {
  const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  const expectText = async (page, text) => {
    const body = await page.textContent("body");
    if (!body.includes(text)) throw new Error(`expected "${text}" on ${page.url()}`);
  };
  const consoleErrors = [];
  const watch = (page) => page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });

  const desktop = await browser.newContext({ locale: "pt-BR", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await desktop.newPage();
  watch(page);
  await page.goto(`${base}/signup`);
  await page.fill('input[name="name"]', "Marina");
  await page.fill('input[name="email"]', "marina@e2e.test");
  await page.fill('input[name="password"]', "marina-senha-forte-1");
  await Promise.all([page.waitForURL(`${base}/chat`), page.click('button[type="submit"] >> text=Criar conta')]);

  // From the chat page's link to the empty plan.
  await Promise.all([page.waitForURL(`${base}/safety-plan`), page.click('.care-links a[href="/safety-plan"]')]);
  await shot(page, "20-plan-empty-1280");
  for (const [name, text] of Object.entries(steps)) await page.fill(`#${name}`, text);
  await Promise.all([page.waitForURL(/notice=safety-plan-saved/), page.click('button[type="submit"] >> text=Salvar meu plano')]);
  await expectText(page, "Plano salvo.");
  await page.reload();
  for (const [name, text] of Object.entries(steps)) {
    const value = await page.inputValue(`#${name}`);
    if (value !== text) throw new Error(`#${name} after reload: ${JSON.stringify(value)}`);
  }
  await shot(page, "21-plan-saved-1280");

  // The export downloads a Markdown file with the person's words.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  const markdown = readFileSync(await download.path(), "utf8");
  for (const text of ["# Meu plano de segurança", "- Minha tia Lúcia (11) 98888-7777", "- Tomar um banho morno"]) {
    if (!markdown.includes(text)) throw new Error(`export lacks "${text}": ${markdown}`);
  }

  // A risky message on the chat page: the crisis card, with numbers a phone can tap, offers the
  // saved plan, and its link opens it.
  await page.goto(`${base}/chat`);
  await shot(page, "22-chat-links-1280");
  await page.fill("#message", "não aguento mais, quero morrer");
  await page.click("#send");
  const link = await page.waitForSelector('.crisis-card .crisis-actions a[href="/safety-plan"]', { timeout: 8000 });
  if (!(await link.textContent()).includes("Abrir meu plano de segurança")) {
    throw new Error(`the card does not offer the saved plan: ${await link.textContent()}`);
  }
  for (const number of ["tel:188", "tel:192"]) {
    if (!(await page.$(`.crisis-card a[href="${number}"]`))) throw new Error(`no ${number} link in the card`);
  }
  await shot(page, "30-crisis-card-1280");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "31-crisis-card-390");
  await page.setViewportSize({ width: 1280, height: 900 });
  await Promise.all([page.waitForURL(`${base}/safety-plan`), link.click()]);
  await expectText(page, "Minha tia Lúcia");

  // Grounding, moving and still.
  await page.goto(`${base}/grounding`);
  await shot(page, "23-grounding-1280");
  await page.emulateMedia({ reducedMotion: "reduce" });
  await shot(page, "24-grounding-still-1280");

  // The same pages on a phone, signed in as the same person.
  const phone = await browser.newContext({
    locale: "pt-BR", viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true,
    storageState: await desktop.storageState(),
  });
  const small = await phone.newPage();
  watch(small);
  for (const [path, name] of [["/safety-plan", "25-plan-390"], ["/grounding", "26-grounding-390"], ["/chat", "27-chat-390"], ["/profile", "28-profile-390"]]) {
    await small.goto(`${base}${path}`);
    const overflow = (await small.evaluate(() => document.documentElement.scrollWidth)) - 390;
    if (overflow > 0) failures.push(`${path} is ${overflow}px wider than a 390px phone`);
    await shot(small, name);
  }
  await phone.close();

  // Deleting asks first, then the plan is gone.
  await page.goto(`${base}/safety-plan`);
  await Promise.all([page.waitForURL(`${base}/safety-plan/delete`), page.click('button.danger >> text=Apagar meu plano')]);
  await shot(page, "29-plan-delete-confirm-1280");
  await Promise.all([page.waitForURL(/notice=safety-plan-deleted/), page.click('button.danger >> text=Sim, apagar')]);
  await expectText(page, "Plano apagado.");
  if ((await page.inputValue("#people_to_ask")) !== "") throw new Error("the plan is still shown after deleting");
  if (await page.$("#export")) throw new Error("an export link for a deleted plan");
  if (consoleErrors.length) failures.push(`console errors: ${consoleErrors.join(" | ")}`);
} catch (e) {
  failures.push(String((e && e.stack) || e));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("safety plan e2e ok");
