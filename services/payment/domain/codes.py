"""e-SCOTT result-code catalogue (protocol reference §4) and the buyer-message rule R16/R17 (design §5).

Standard library only. Operators see every code with its description (``describe``/``operator_text``);
buyers never see codes, only ``buyer_message`` (anti-fraud, design R16).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BUYER_K99 = (
    "ソニーペイメント取引の処理に失敗いたしました。"
    "詳細につきましては、ソニーペイメントまでお問い合わせください"
)
BUYER_CARD_COMPANY = "クレジットカード会社にお問い合わせください"
BUYER_SHOP = "ショップ様にお問い合わせください"
STATUS_UNREADABLE = "決済状況が確認できません"  # R17: order screen cannot read the gateway status
MEMBER_FUNCTION_OFF = "決済処理エラーが発生しました"  # R17: 4MemAdd answered K68


@dataclass(frozen=True, kw_only=True)
class CodeInfo:
    """One result code with its Japanese and English descriptions."""

    code: str
    ja: str
    en: str
    known: bool = True


_TABLE = """
K01|電文精査エラー（項目の不足または不正）|Message validation: fields missing or wrong for this OperateId
K02|マーチャントID精査エラー|MerchantId format error
K03|マーチャントパスワード精査エラー|MerchantPass format error
K04|店舗コード精査エラー|TenantId format error
K05|取引日付精査エラー|TransactionDate format error
K06|処理区分精査エラー|OperateId format error
K07|貴社自由領域1精査エラー|MerchantFree1 format error
K08|貴社自由領域2精査エラー|MerchantFree2 format error
K09|貴社自由領域3精査エラー|MerchantFree3 format error
K10|処理通番精査エラー|ProcessId format error
K11|処理パスワード精査エラー|ProcessPass format error
K12|処理通番・処理パスワードがMaster電文の発行値と不一致|ProcessId/ProcessPass not issued by a Master message
K13|店舗コードが登録されていません|TenantId not registered
K14|処理区分の状態遷移が不整合です|OperateId status-transition inconsistency
K15|返戻対象会員数が上限を超えています|Too many members to return (over 30)
K20|カード番号精査エラー|CardNo format error
K21|カード有効期限精査エラー|CardExp format error
K22|支払区分精査エラー|PayType format error
K23|金額精査エラー（または変更前と同額）|Amount format error, or 1Change with an unchanged amount
K24|セキュリティコード精査エラー|SecCd format error
K25|姓（カナ）精査エラー|KanaSei format error
K26|名（カナ）精査エラー|KanaMei format error
K27|生月日精査エラー|BirthDay format error
K28|電話番号精査エラー|TelNo format error
K30|3Dメッセージバージョン精査エラー|MessageVersionNo3D format error
K31|3DトランザクションID精査エラー|TransactionId3D format error
K32|3D暗号化XID精査エラー|EncodeXId3D format error
K33|3Dトランザクションステータス精査エラー|TransactionStatus3D format error
K34|3D CAVVアルゴリズム精査エラー|CAVVAlgorithm3D format error
K35|3D CAVV精査エラー|CAVV3D format error
K36|3D ECI精査エラー|ECI3D format error
K37|3Dカード番号精査エラー|PANCard3D format error
K39|売上計上日精査エラー（形式不正または未来日付）|SalesDate format error or future date
K40|承認済み（セキュリティコード不一致）|Approved but security code unmatched (McSecCd=1)
K41|認証アシスト不一致（生月日）|Auth-assist unmatch: birthday
K42|認証アシスト不一致（電話番号下4桁）|Auth-assist unmatch: tel last 4 digits
K43|認証アシスト不一致（姓カナ）|Auth-assist unmatch: kana family name
K44|認証アシスト不一致（名カナ）|Auth-assist unmatch: kana given name
K45|会員ID精査エラー|KaiinId format error
K46|会員パスワード精査エラー|KaiinPass format error
K47|新会員パスワード精査エラー|NewKaiinPass format error
K48|洗替使用区分精査エラー|EnableCheckUseKbn format error
K50|支払期限精査エラー|PayLimit format error (CVS)
K51|氏名（漢字）精査エラー|NameKanji format error (CVS)
K52|氏名（カナ）精査エラー|NameKana format error (CVS)
K53|商品名精査エラー|ShouhinName format error (CVS)
K54|自由項目1〜7精査エラー|Free1-7 format error (CVS)
K55|コメント精査エラー|Comment format error (CVS)
K56|自由項目8〜19精査エラー|Free8-19 format error (CVS)
K57|自由項目8〜19精査エラー|Free8-19 format error (CVS)
K58|自由項目8〜19精査エラー|Free8-19 format error (CVS)
K59|自由項目8〜19精査エラー|Free8-19 format error (CVS)
K60|戻りURL精査エラー（資料によりKID）|ReturnURL format error (KID in some sources)
K62|KID精査エラー|KID format error (offline sales)
K63|オーソリ実施フラグ精査エラー|Authorization execution flag format error (offline sales)
K64|赤伝フラグ精査エラー|Red-slip flag format error (offline sales)
K65|カード会社コード精査エラー|Company code format error (offline sales)
K66|承認番号精査エラー|Approval number format error (offline sales)
K67|売上日付精査エラー|Sales date format error (offline sales)
K68|会員機能が利用できません|Member function unavailable
K69|会員IDが重複しています|KaiinId duplicate
K70|会員が無効状態ではありません|Member is not in the invalid state
K71|会員ID・会員パスワード認証エラー|KaiinId/KaiinPass authentication error
K72|カード情報設定エラー|Card information setting error
K73|会員は既に有効です|Member is already valid
K74|認証エラー回数超過により会員がロックされています|Member locked after repeated authentication failures
K75|会員が有効ではありません|Member is not valid
K79|会員無効判定（カード無効・ログイン無効・会員無効）|Member judged invalid (card, login or member invalid)
K80|会員IDの設定が必要です（Master電文で設定済み）|KaiinId required: the Master message had one
K81|会員IDの設定は不要です（Master電文で未設定）|KaiinId must be omitted: the Master message had none
K82|カード番号の内容が不正です|Card number invalid content
K83|カード有効期限の内容が不正です|Card expiry invalid content
K84|会員IDの内容が不正です|KaiinId invalid content
K85|会員パスワードの内容が不正です|KaiinPass invalid content
K86|受付番号精査エラー|ProcNo format error
K87|通知URL精査エラー|PostUrl format error
K88|元取引が重複しています（SPSへお問い合わせください）|Original transaction duplicated: contact SPS
K89|受付番号が既に使用されています|ProcNo already used
K95|フォーマットエラー|Format error
K96|内部通信障害・タイムアウト（復旧後に再処理）|Internal communication failure/timeout: retry after recovery
K97|システム停止中|System stopped
K98|内部軽度障害|Minor internal failure
K99|その他例外エラー|Other exception
KA1|通貨コード精査エラー|CurrencyId format error
KBX|二重取引（重複電文を受信しました）|Double transaction: duplicate message received
KBY|元取引が完了していません|Original transaction not complete
KBZ|元取引が存在しません|Original transaction not found
KG8|マーチャント認証エラー回数超過（ロック）|Merchant authentication locked after repeated failures
KGH|会員参照の利用が制限されています|Member reference restricted
KH0|銀聯ステータス不明|UnionPay status unknown
KH4|表示言語精査エラー|PageLanguage format error
KHS|成功時URL精査エラー|SuccessURL format error
KHT|エラー時URL精査エラー|ErrorURL format error
KHU|ステータス通知URL精査エラー|StatusNoticeURL format error
KHV|自動取消を実行しました（確認の上、再処理）|Auto-cancel executed: check and re-process if needed
KHW|3Dセキュア認証タイムアウト|3-D Secure timeout
KHX|トークン精査エラー|Token format error
KHZ|利用可能なトークンがありません|No usable token
KI0|エンドユーザーによりキャンセルされました|Cancelled by the end user
KI1|トークン決済認証コード精査エラー|k_TokenNinsyoCode format error
KI2|トークンは既に使用されています|Token already used
KI3|トークンの有効期限が切れています|Token expired
KI4|端末情報精査エラー|Terminal information format error
KI5|同一カード番号の連続入力によりロックされています|Locked: same card number entered repeatedly
KI6|同一端末からの連続入力によりロックされています|Locked: repeated input from the same terminal
KI8|対象取引が複数存在します|Multiple target transactions
KI9|Apple Pay項目精査エラー|Apple Pay field format error
KIA|Apple Pay項目精査エラー|Apple Pay field format error
KIB|Apple Pay項目精査エラー|Apple Pay field format error
KIE|Apple Pay署名エラー|Apple Pay signature error
KIF|Apple Pay署名エラー|Apple Pay signature error
KIH|Apple Pay署名エラー|Apple Pay signature error
KIJ|トークンと処理通番が両方設定されています|Token and ProcessId both set: set only one
KIK|Apple Pay会員・元取引不整合|Apple Pay member/original-transaction mismatch
KIL|通常会員・元取引不整合|Normal member/original-transaction mismatch
KIM|受付番号精査エラー|Receipt number format error
KIN|取消は不要です|Cancellation not required
KIR|認証会員登録フラグ精査エラー|AuthKaiinAddFlg format error
KIS|処理区分設定エラー|Processing-class setting error
KIU|会員IDの連続入力によりロックされています|Locked by repeated KaiinId input
KIW|会員ID自動採番フラグ精査エラー|KaiinIdAutoRiyoFlg format error
C01|SPS設定エラー|SPS setting error
C02|e-SCOTTシステムエラー（復旧をお待ちください）|e-SCOTT system error: wait for recovery
C03|e-SCOTT通信エラー|e-SCOTT communication error
C10|支払区分が契約されていません|Payment division not contracted
C11|ボーナス期間外です|Outside the bonus period
C12|分割回数が契約されていません|Installment count not contracted
C13|有効期限切れ・有効期限誤り|Card expired or wrong expiry
C14|既に取消済みです|Already cancelled
C15|ボーナス最低金額未満です|Below the bonus minimum amount
C16|該当カード番号がありません|No such card number
C17|契約外のカード番号体系です|Card-number scheme outside the contract
C18|オーソリ除外対象のカード番号帯です|Card range excluded from authorization
C70|SPS設定情報エラー|SPS setting information error
C71|SPS設定情報エラー|SPS setting information error
C80|カード会社センター閉局中|Card company center closed
C82|取引識別番号が重複しています|Transaction identification number duplicate
C98|その他エラー|Other error
C99|その他エラー|Other error
G12|カード使用不可|Card unusable
G22|支払永久禁止|Payment permanently prohibited
G30|取引判定保留|Decision pending
G42|暗証番号誤り|PIN error (debit)
G44|セキュリティコード誤り|Security code wrong
G45|セキュリティコード入力無|Security code missing
G54|利用回数または金額オーバー（1日）|Daily usage count or amount over
G55|限度額オーバー（1日）|Daily limit over
G56|無効カード|Invalid card
G60|事故カード|Accident (lost or stolen) card
G61|無効カード|Invalid card
G65|カード番号エラー|Card number error
G68|金額エラー|Amount error
G72|ボーナス金額エラー|Bonus amount error
G74|分割回数エラー|Installment count error
G75|分割金額エラー（下限未満）|Below the installment minimum
G78|支払区分エラー|Payment division error
G83|有効期限エラー|Expiry error
G84|承認番号エラー|Approval number error
G85|CAFIS代行エラー|CAFIS stand-in error
G92|カード会社任意エラー|Card company arbitrary error
G94|サイクル通番エラー|Cycle sequence number error
G95|カード会社オンライン業務終了|Card company online service closed
G96|事故カードデータエラー|Accident card data
G97|リクエスト拒否|Request rejected
G98|カード会社の対象業務ではありません|Not a target business of the card company
G99|カード会社による接続拒否|Connection refused by the card company
U01|3Dセキュアパスワード未登録|Cardholder has no 3-D Secure password / not enrolled
U02|カード発行会社が3Dセキュア非対応|Issuer does not support 3-D Secure
U03|ブランドまたは発行会社サーバー障害|Brand or issuer server failure
U04|3Dセキュア認証NG|3-D Secure authentication failed
U05|改ざんを検知しました|Tampering detected
U06|ユーザータイムアウト（40分超過）|User timeout (over 40 minutes)
U07|処理中に重複電文を受信しました|Duplicate message received during processing
U08|セッション削除後の重複電文|Duplicate after the session was deleted
U09|ブランドが3Dセキュア非対応|Brand does not support 3-D Secure
U10|ブランドサーバー停止中|Brand server down
U11|認証システム精査エラー|Authentication system validation error
U12|加盟店認証エラー|Merchant authentication error
U13|認証システム項目エラー|Authentication system item error
U14|計画メンテナンス中|Planned maintenance
U15|アテンプト|Attempt
U95|一時障害（再試行してください）|Temporary failure: retry
U96|タイムアウト|Timeout
U99|想定外エラー|Unexpected error
"""

_SERIES: list[tuple[str, str, str]] = [
    *((f"P{n}", "カード登録画面キャンセル", "Card registration screen cancelled") for n in (51, 52)),
    ("P53", "カード登録エラー", "Card registration error"),
    *((f"P{n}", "認証アシスト不一致回数超過", "Auth-assist unmatch limit reached") for n in (54, 58, 68, 72)),
    *((f"P{n}", "カード変更画面キャンセル", "Card change screen cancelled") for n in (55, 56)),
    ("P57", "カード変更エラー", "Card change error"),
    ("P60", "会員参照エラー", "Member reference error"),
    *((f"P{n}", "会員決済画面キャンセル", "Member payment screen cancelled") for n in range(62, 66)),
    *((f"P{n}", "会員決済エラー", "Member payment error") for n in (66, 67)),
    *((f"P{n}", "非会員決済画面キャンセル", "Non-member payment screen cancelled") for n in (69, 70)),
    ("P71", "非会員決済エラー", "Non-member payment error"),
    ("P74", "セッションタイムアウト", "Session timeout"),
    *((f"R{n:02d}", "銀聯決済エラー", "UnionPay result error") for n in range(1, 38)),
    *((f"W{n:02d}", "オンライン収納代行サービスエラー", "Online payment collection service error")
      for n in (1, 2, 3, 4, 5, 6, 99)),
]


def _build() -> dict[str, CodeInfo]:
    rows = (line.split("|") for line in _TABLE.strip().splitlines())
    catalogue = {code: CodeInfo(code=code, ja=ja, en=en) for code, ja, en in rows}
    catalogue.update({code: CodeInfo(code=code, ja=ja, en=en) for code, ja, en in _SERIES})
    return catalogue


CATALOGUE: dict[str, CodeInfo] = _build()


def describe(code: str) -> CodeInfo:
    """The catalogue entry for ``code``; an unlisted code still gets a readable, flagged entry."""
    return CATALOGUE.get(code) or CodeInfo(code=code, ja="不明なコード", en="Unknown code", known=False)


def operator_text(codes: Iterable[str]) -> str:
    """``"K20 : CardNo format error / G12 : Card unusable"`` for operators' screens and history."""
    return " / ".join(f"{c} : {describe(c).en}" for c in codes)


def buyer_message(codes: Iterable[str]) -> str:
    """Design R16: K99 anywhere wins; else any G code; else "contact the shop". Never reveals codes."""
    listed = list(codes)
    if "K99" in listed:
        return BUYER_K99
    if any(code.startswith("G") for code in listed):
        return BUYER_CARD_COMPANY
    return BUYER_SHOP
