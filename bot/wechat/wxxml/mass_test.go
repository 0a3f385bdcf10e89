package wxxml

// massJobFinish is the body of a MASSSENDJOBFINISH event after the head, in the layout of WeChat's
// documentation (with its copyright-check block, which is skipped).
const massJobFinish = `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event>
<MsgID>1000001625</MsgID>
<Status><![CDATA[err(30003)]]></Status>
<TotalCount>5</TotalCount>
<FilterCount>2</FilterCount>
<SentCount>3</SentCount>
<ErrorCount>1</ErrorCount>
<CopyrightCheckResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><UserDeclareState>0</UserDeclareState>
<AuditState>2</AuditState><OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType>
<CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent><NeedShowReprintSource>1</NeedShowReprintSource></item></ResultList>
<CheckState>2</CheckState></CopyrightCheckResult>
<ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[]]></ArticleUrl></item></ResultList></ArticleUrlResult>`
