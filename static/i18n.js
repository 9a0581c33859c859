// Every UI string lives here, in English and Simplified Chinese.
// `{name}` placeholders are filled by t(); values are inserted as text, never HTML.

const STRINGS = {
  en: {
    appTitle: 'Shop',
    loading: 'Loading…',
    outsideTitle: 'Open this page from the bot in Telegram',
    outsideBody:
      'This shop is a Telegram Mini App: it needs Telegram to know who you are and to take payments. ' +
      "Open it from the bot's menu button or from a t.me link inside Telegram.",
    verifying: 'Checking your Telegram session…',
    verifiedAs: 'Verified as {name}',
    someone: 'Telegram user',
    verifyFailed: 'Could not verify your Telegram session: {message}',
    premium: 'Premium',
    share: 'Share',
    shareText: 'Take a look at this shop in Telegram',
    catalog: 'Catalog',
    myOrders: 'My orders',
    noProducts: 'Nothing for sale right now.',
    noOrders: 'No orders yet. What you buy will show up here.',
    productsFailed: 'Could not load the catalog: {message}',
    ordersFailed: 'Could not load your orders: {message}',
    buy: 'Buy',
    subscribe: 'Subscribe',
    payMain: 'Pay {price}',
    subscribeMain: 'Subscribe · {price}',
    perPeriod: '/ {period}',
    renews: 'Renews every {period} until you cancel it in Telegram.',
    creatingInvoice: 'Preparing your invoice…',
    invoiceOpen: 'Finish the payment in the Telegram window.',
    confirming: 'Confirming payment…',
    paidOk: 'Payment received, thank you! "{title}" is yours.',
    stillConfirming: 'Your payment is still being confirmed. The order list will update when it is done.',
    cancelled: 'Payment cancelled.',
    failed: 'The payment did not go through. Please try again.',
    orderEnded: 'This order is now: {status}.',
    invoiceUnsupported: 'This Telegram app cannot take payments here. Please update Telegram.',
    invoiceAlreadyOpen: 'A payment window is already open.',
    invoiceInvalid: 'The shop returned an invoice link Telegram cannot open.',
    networkError: "Can't reach the shop. Check your connection and try again.",
    serverError: 'Something went wrong on our side (HTTP {status}). Please try again.',
    retry: 'Try again',
    back: 'Back',
    dismiss: 'Tap to dismiss',
    orderDetails: 'Order details',
    activeUntil: 'Active until {date}',
    owned: 'Owned',
    yourGoods: 'Your purchase',
    openGoods: 'Open',
    fileInChat: 'The file was sent to your chat with the bot.',
    cancelRenewal: 'Cancel renewal',
    resumeRenewal: 'Turn renewal back on',
    renewalCanceled: 'Renewal cancelled. You keep access until the end of the period.',
    renewalResumed: 'Renewal is on again.',
    renewalOff: 'Renewal is off: access ends on the date above.',
    endedOn: 'Ended {date}',
    fieldOrder: 'Order',
    fieldProduct: 'Product',
    fieldStatus: 'Status',
    fieldAmount: 'Amount',
    fieldCreated: 'Created',
    fieldPaid: 'Paid',
    fieldCharge: 'Payment id',
    fieldSubscription: 'Subscription',
    status_pending: 'Pending',
    status_paid: 'Paid',
    status_refunded: 'Refunded',
    status_failed: 'Failed',
    status_expired: 'Expired',
  },
  zh: {
    appTitle: '商店',
    loading: '加载中…',
    outsideTitle: '请在 Telegram 中通过机器人打开此页面',
    outsideBody:
      '这是一个 Telegram 小程序：需要 Telegram 确认你的身份并完成付款。' +
      '请通过机器人的菜单按钮或 Telegram 内的 t.me 链接打开。',
    verifying: '正在验证你的 Telegram 身份…',
    verifiedAs: '已验证：{name}',
    someone: 'Telegram 用户',
    verifyFailed: '无法验证你的 Telegram 身份：{message}',
    premium: 'Premium',
    share: '分享',
    shareText: '来看看 Telegram 里的这家小店',
    catalog: '商品',
    myOrders: '我的订单',
    noProducts: '暂时没有在售商品。',
    noOrders: '还没有订单，购买后会显示在这里。',
    productsFailed: '无法加载商品：{message}',
    ordersFailed: '无法加载订单：{message}',
    buy: '购买',
    subscribe: '订阅',
    payMain: '支付 {price}',
    subscribeMain: '订阅 · {price}',
    perPeriod: '/ {period}',
    renews: '每 {period}自动续订，可随时在 Telegram 中取消。',
    creatingInvoice: '正在生成账单…',
    invoiceOpen: '请在 Telegram 付款窗口中完成支付。',
    confirming: '正在确认付款…',
    paidOk: '付款成功，谢谢！你已获得「{title}」。',
    stillConfirming: '付款仍在确认中，完成后订单列表会自动更新。',
    cancelled: '已取消付款。',
    failed: '付款未成功，请重试。',
    orderEnded: '此订单当前状态：{status}。',
    invoiceUnsupported: '当前 Telegram 版本无法在此付款，请更新 Telegram。',
    invoiceAlreadyOpen: '付款窗口已打开。',
    invoiceInvalid: '商店返回的账单链接无法在 Telegram 中打开。',
    networkError: '无法连接到商店，请检查网络后重试。',
    serverError: '服务器出错（HTTP {status}），请稍后重试。',
    retry: '重试',
    back: '返回',
    dismiss: '点击关闭',
    orderDetails: '订单详情',
    activeUntil: '有效期至 {date}',
    owned: '已拥有',
    yourGoods: '您购买的内容',
    openGoods: '打开',
    fileInChat: '文件已发送到您与机器人的聊天中。',
    cancelRenewal: '取消自动续订',
    resumeRenewal: '重新开启自动续订',
    renewalCanceled: '已取消自动续订，本期结束前仍可使用。',
    renewalResumed: '已重新开启自动续订。',
    renewalOff: '自动续订已关闭：到期后失效。',
    endedOn: '已于 {date} 结束',
    fieldOrder: '订单号',
    fieldProduct: '商品',
    fieldStatus: '状态',
    fieldAmount: '金额',
    fieldCreated: '创建时间',
    fieldPaid: '支付时间',
    fieldCharge: '支付编号',
    fieldSubscription: '订阅',
    status_pending: '待支付',
    status_paid: '已支付',
    status_refunded: '已退款',
    status_failed: '失败',
    status_expired: '已过期',
  },
};

let lang = 'en';

/** `zh`, `zh-hans`, `zh-CN`, `zh_TW`… → Chinese; anything else (or nothing) → English. */
export function pickLanguage(code) {
  return /^zh(?:$|[-_])/i.test(String(code || '')) ? 'zh' : 'en';
}

export function setLanguage(code) {
  lang = pickLanguage(code);
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
}

/** BCP 47 locale for Intl formatting, matching the UI language. */
export function locale() {
  return lang === 'zh' ? 'zh-CN' : 'en';
}

export function t(key, vars) {
  const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  if (!vars) return s;
  // Function replacer: values are used verbatim (no `$&` surprises).
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Fill static markup: `data-i18n` sets text, `data-i18n-label` aria-label + title, `data-i18n-title` title. */
export function translateDom(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = t('appTitle');
}
