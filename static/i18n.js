// @ts-check
// Every UI string, in English (`en`) and Simplified Chinese (`zh`), one object per
// language with the same keys: `zh` is typed as `Record<StringKey, string>`, so tsc
// fails when a key is missing from it or when it has one that English lacks.
// `{name}` placeholders are filled by t(); values are inserted as text, never HTML.

const en = {
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
  retry: 'Try again',
  back: 'Back',
  dismiss: 'Tap to dismiss',
  orderDetails: 'Order details',
  activeUntil: 'Active until {date}',
  owned: 'Owned',
  yourGoods: 'Your purchase',
  openGoods: 'Open',
  fileInChat: 'The file was sent to your chat with the bot.',
  fileNotInChat: "The bot can't message you, so this file could not be sent to your chat. Open the bot, tap Start and send /paysupport with your order number.",
  saveFile: 'Save file',
  fileDownloading: 'Telegram is downloading the file.',
  writeAccessAsking: 'Telegram asks if the bot may message you, so it can send you what you buy.',
  writeAccessRefused:
    "The bot can't message you. You can still buy: what you buy shows under My orders in this app, " +
    "but files and links won't be sent to your chat, so find them here.",
  accessTo: 'Access to {title}',
  accessToChat: 'Access to the chat',
  joinChat: 'Join',
  joinLinkComing: 'Your personal link is on its way to your chat with the bot.',
  join: 'Join',
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
  // TON Connect: the wallet bar, paying in TON or USDT (ton.js, buy.js, views/wallet.js).
  tonWallet: 'TON wallet',
  walletNone: 'Connect a wallet to pay in TON or USDT.',
  walletLoading: 'Loading TON Connect…',
  connectWallet: 'Connect wallet',
  disconnectWallet: 'Disconnect',
  walletConnecting: 'Connecting your wallet…',
  walletLinked: 'Wallet connected: {address}',
  walletUnlinked: 'Wallet disconnected.',
  walletLinkFailed: 'Your wallet was not connected: {message}',
  walletNoProof: 'Your wallet did not sign the proof this shop asks for. Try another wallet.',
  walletConnectFirst: 'Connect a TON wallet to pay for "{title}".',
  tonLoadFailed: 'TON Connect could not be loaded. Check your connection and try again.',
  tonCreatingOrder: 'Preparing your order…',
  tonConfirmInWallet: 'Confirm the payment of {price} in your wallet.',
  tonRejected: 'You declined the payment in your wallet. The order stays unpaid; you can pay it later.',
  tonSendFailed: 'Your wallet did not send the payment. Please try again.',
  tonConfirming: 'Waiting for your payment to arrive on the TON network…',
  tonShort: 'Only {received} of {price} has arrived so far. The bot has sent you what is missing.',
  tonStillConfirming: 'Your payment has not arrived yet. The order will update once the network confirms it.',
  checkPayment: 'Check payment',
  tonNotArrived: 'No payment for this order has arrived yet.',
  // What went wrong, in the user's words (errors.js picks one per error code; the
  // server's own English `message` is never shown).
  error_network: "Can't reach the shop. Check your connection and try again.",
  error_timeout: 'The shop took too long to answer. Check your connection and try again.',
  error_bad_response: 'The shop sent an answer the app cannot read (HTTP {status}). Please try again.',
  error_unknown: 'Something went wrong on our side (HTTP {status}). Please try again.',
  error_unexpected: 'Something went wrong. Please try again.',
  error_missing_init_data: 'Telegram did not pass on who you are. Close the shop and open it again from the bot.',
  error_malformed_init_data: "Telegram's sign-in data could not be read. Close the shop and open it again from the bot.",
  error_invalid_hash: "Telegram's sign-in data did not pass the check. Close the shop and open it again from the bot.",
  error_expired_init_data: 'Your sign-in has expired. Close the shop and open it again from the bot.',
  error_invalid_signature: "Telegram's signature on your sign-in data is not valid. Open the shop again from the bot.",
  error_missing_user: 'Telegram did not say who you are. Open the shop from your chat with the bot.',
  error_product_not_found: 'This product is no longer for sale.',
  error_payment_provider_not_configured: 'This shop cannot take card payments yet.',
  error_telegram_error: 'Telegram could not handle the request. Please try again in a moment.',
  error_telegram_rate_limited: 'Telegram is busy right now. Please try again in a moment.',
  error_telegram_rate_limited_wait: 'Telegram is busy right now. Please try again in {seconds} s.',
  error_rate_limited: 'Too many requests. Please wait a moment and try again.',
  error_rate_limited_wait: 'Too many requests. Please try again in {seconds} s.',
  error_too_many_pending_orders: 'You have too many unpaid orders. Pay one of them, or try again later.',
  error_storage_unavailable: "The shop's records are unavailable right now. Please try again shortly.",
  error_not_configured: 'The shop is not set up yet. Please try again later.',
  error_invalid_catalog: "The shop's catalog is being fixed; nothing can be bought right now.",
  error_subscription_not_found: 'This subscription was not found.',
  error_not_a_subscription: 'This order is not a subscription.',
  error_subscription_not_active: 'This subscription is no longer active.',
  error_payload_too_large: 'The request was too large for the shop.',
  error_unsupported_media_type: 'The shop could not read the request. Please update the app and try again.',
  error_invalid_json: 'The shop could not read the request. Please update the app and try again.',
  error_internal: 'Something went wrong on our side. Please try again.',
  error_not_found: 'The shop could not find what the app asked for.',
  error_method_not_allowed: 'The shop does not accept this request. Please update the app and try again.',
  error_pay_with_invoice: 'This product is paid with a Telegram invoice, not a TON wallet.',
  error_pay_with_ton: 'This product is paid in TON or USDT: connect a TON wallet.',
  error_wallet_not_linked: 'Connect a TON wallet first.',
  error_wrong_network: 'Your wallet is on another TON network than this shop. Switch networks in the wallet and connect again.',
  error_no_usdt_wallet: 'Your wallet holds no USDT. Add USDT to it, or connect another wallet.',
  error_ton_unavailable: 'The TON network cannot be reached right now. Please try again in a moment.',
  error_ton_not_configured: 'This shop does not take TON payments yet.',
  error_unknown_payload: 'The connection request was already used or is not yours. Connect the wallet again.',
  error_ton_proof_expired: 'The connection request expired. Connect the wallet again.',
  error_malformed_ton_proof: "The wallet's proof could not be read. Try again, or use another wallet.",
  error_domain_mismatch: 'The wallet signed for another website. Connect it again from this shop.',
  error_address_mismatch: "The wallet's proof does not match its address. Try another wallet.",
  error_unsupported_wallet: 'This kind of wallet is not supported. Use a standard TON wallet (v3, v4 or v5).',
  error_public_key_mismatch: "The wallet's key does not match its address. Try another wallet.",
  error_invalid_ton_proof: "The wallet's signature did not pass the check. Connect it again.",
};

/** @typedef {keyof typeof en} StringKey  a key of the string tables */

/** @type {Record<StringKey, string>} */
const zh = {
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
  retry: '重试',
  back: '返回',
  dismiss: '点击关闭',
  orderDetails: '订单详情',
  activeUntil: '有效期至 {date}',
  owned: '已拥有',
  yourGoods: '您购买的内容',
  openGoods: '打开',
  fileInChat: '文件已发送到您与机器人的聊天中。',
  fileNotInChat: '机器人无法给你发消息，文件没能发到聊天里。请打开机器人，点击「开始」，再发送 /paysupport 并附上订单号。',
  saveFile: '保存文件',
  fileDownloading: 'Telegram 正在下载文件。',
  writeAccessAsking: 'Telegram 会询问是否允许机器人给你发消息，这样才能把购买的内容发给你。',
  writeAccessRefused:
    '机器人无法给你发消息。你仍然可以购买：买到的内容会显示在本应用的「我的订单」里，' +
    '但文件和链接不会发到聊天中，请在这里查看。',
  accessTo: '{title} 入群资格',
  accessToChat: '入群资格',
  joinChat: '加入',
  joinLinkComing: '你的专属邀请链接正在发送到与机器人的聊天中。',
  join: '加入',
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
  tonWallet: 'TON 钱包',
  walletNone: '连接钱包后即可用 TON 或 USDT 付款。',
  walletLoading: '正在加载 TON Connect…',
  connectWallet: '连接钱包',
  disconnectWallet: '断开',
  walletConnecting: '正在连接你的钱包…',
  walletLinked: '钱包已连接：{address}',
  walletUnlinked: '钱包已断开。',
  walletLinkFailed: '钱包未能连接：{message}',
  walletNoProof: '你的钱包没有签署本店要求的证明，请换一个钱包。',
  walletConnectFirst: '请先连接 TON 钱包，再购买「{title}」。',
  tonLoadFailed: '无法加载 TON Connect，请检查网络后重试。',
  tonCreatingOrder: '正在生成订单…',
  tonConfirmInWallet: '请在钱包中确认支付 {price}。',
  tonRejected: '你在钱包中拒绝了付款。订单仍未支付，稍后可以再付。',
  tonSendFailed: '钱包未能发送付款，请重试。',
  tonConfirming: '正在等待付款到达 TON 网络…',
  tonShort: '目前只收到 {price} 中的 {received}。机器人已告诉你还差多少。',
  tonStillConfirming: '付款尚未到账。网络确认后订单会自动更新。',
  checkPayment: '检查付款',
  tonNotArrived: '此订单的付款尚未到账。',
  error_network: '无法连接到商店，请检查网络后重试。',
  error_timeout: '商店响应超时，请检查网络后重试。',
  error_bad_response: '商店返回了无法识别的内容（HTTP {status}），请重试。',
  error_unknown: '服务器出错（HTTP {status}），请稍后重试。',
  error_unexpected: '出错了，请重试。',
  error_missing_init_data: 'Telegram 没有传来你的登录信息，请关闭商店后从机器人重新打开。',
  error_malformed_init_data: '无法读取 Telegram 的登录信息，请关闭商店后从机器人重新打开。',
  error_invalid_hash: 'Telegram 登录信息未通过校验，请关闭商店后从机器人重新打开。',
  error_expired_init_data: '登录已过期，请关闭商店后从机器人重新打开。',
  error_invalid_signature: '登录信息的 Telegram 签名无效，请从机器人重新打开商店。',
  error_missing_user: 'Telegram 没有提供你的用户信息，请在与机器人的聊天中打开商店。',
  error_product_not_found: '该商品已下架。',
  error_payment_provider_not_configured: '本店暂不支持银行卡付款。',
  error_telegram_error: 'Telegram 暂时无法处理该请求，请稍后重试。',
  error_telegram_rate_limited: 'Telegram 当前繁忙，请稍后重试。',
  error_telegram_rate_limited_wait: 'Telegram 当前繁忙，请在 {seconds} 秒后重试。',
  error_rate_limited: '请求过于频繁，请稍候再试。',
  error_rate_limited_wait: '请求过于频繁，请在 {seconds} 秒后重试。',
  error_too_many_pending_orders: '未支付的订单过多，请先支付其中一笔，或稍后再试。',
  error_storage_unavailable: '商店的数据暂时无法访问，请稍后重试。',
  error_not_configured: '商店尚未完成设置，请稍后再试。',
  error_invalid_catalog: '商店正在修正商品目录，暂时无法购买。',
  error_subscription_not_found: '未找到该订阅。',
  error_not_a_subscription: '该订单不是订阅。',
  error_subscription_not_active: '该订阅已不再有效。',
  error_payload_too_large: '请求内容过大，商店无法处理。',
  error_unsupported_media_type: '商店无法读取该请求，请更新应用后重试。',
  error_invalid_json: '商店无法读取该请求，请更新应用后重试。',
  error_internal: '服务器出错，请重试。',
  error_not_found: '商店找不到所请求的内容。',
  error_method_not_allowed: '商店不接受此请求，请更新应用后重试。',
  error_pay_with_invoice: '该商品通过 Telegram 账单付款，而不是 TON 钱包。',
  error_pay_with_ton: '该商品以 TON 或 USDT 付款：请连接 TON 钱包。',
  error_wallet_not_linked: '请先连接 TON 钱包。',
  error_wrong_network: '你的钱包所在的 TON 网络与本店不同。请在钱包中切换网络后重新连接。',
  error_no_usdt_wallet: '你的钱包里没有 USDT。请先充值 USDT，或连接其他钱包。',
  error_ton_unavailable: '暂时无法连接 TON 网络，请稍后重试。',
  error_ton_not_configured: '本店暂不支持 TON 付款。',
  error_unknown_payload: '该连接请求已被使用或不属于你，请重新连接钱包。',
  error_ton_proof_expired: '连接请求已过期，请重新连接钱包。',
  error_malformed_ton_proof: '无法读取钱包的证明，请重试或换一个钱包。',
  error_domain_mismatch: '钱包签署的是其他网站，请从本店重新连接。',
  error_address_mismatch: '钱包的证明与其地址不符，请换一个钱包。',
  error_unsupported_wallet: '不支持此类钱包，请使用标准 TON 钱包（v3、v4 或 v5）。',
  error_public_key_mismatch: '钱包的公钥与其地址不符，请换一个钱包。',
  error_invalid_ton_proof: '钱包签名未通过校验，请重新连接。',
};

/** @typedef {'en' | 'zh'} Language */

/** Both languages, with identical keys. */
export const STRINGS = /** @type {const} */ ({ en, zh });

/** @type {Language} */
let lang = 'en';

/**
 * `zh`, `zh-hans`, `zh-CN`, `zh_TW`… → Chinese; anything else (or nothing) → English.
 * @param {string | null | undefined} code
 * @returns {Language}
 */
export function pickLanguage(code) {
  return /^zh(?:$|[-_])/i.test(String(code || '')) ? 'zh' : 'en';
}

/**
 * Sets the UI language (and `<html lang>`) from a language code.
 * @param {string | null | undefined} code
 */
export function setLanguage(code) {
  lang = pickLanguage(code);
  document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
}

/** BCP 47 locale for Intl formatting, matching the UI language. */
export function locale() {
  return lang === 'zh' ? 'zh-CN' : 'en';
}

/**
 * Whether `key` names a string (for keys built at run time, e.g. `status_${status}`).
 * @param {string} key
 * @returns {key is StringKey}
 */
export function isStringKey(key) {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/**
 * The string `key` in the current language, with `{name}` placeholders filled from `vars`.
 * @param {StringKey} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  const s = STRINGS[lang][key];
  if (!vars) return s;
  // Function replacer: values are used verbatim (no `$&` surprises).
  return s.replace(/\{(\w+)\}/g, (m, /** @type {string} */ k) => {
    const v = vars[k];
    return v === undefined ? m : String(v);
  });
}

/**
 * Fill static markup: `data-i18n` sets text, `data-i18n-label` aria-label + title,
 * `data-i18n-title` title. Unknown keys are left as the markup has them.
 * @param {ParentNode} [root]
 */
export function translateDom(root = document) {
  /** @param {string | undefined} key */
  const text = (key) => (key !== undefined && isStringKey(key) ? t(key) : null);
  for (const node of root.querySelectorAll('[data-i18n]')) {
    if (!(node instanceof HTMLElement)) continue;
    const s = text(node.dataset.i18n);
    if (s !== null) node.textContent = s;
  }
  for (const node of root.querySelectorAll('[data-i18n-label]')) {
    if (!(node instanceof HTMLElement)) continue;
    const s = text(node.dataset.i18nLabel);
    if (s !== null) {
      node.setAttribute('aria-label', s);
      node.title = s;
    }
  }
  for (const node of root.querySelectorAll('[data-i18n-title]')) {
    if (!(node instanceof HTMLElement)) continue;
    const s = text(node.dataset.i18nTitle);
    if (s !== null) node.title = s;
  }
  document.title = t('appTitle');
}
