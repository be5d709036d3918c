<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>HistoryDetail</name>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="108" />
            <source>Prompt</source>
            <translation>提示词</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="110" />
            <source>Extended prompt</source>
            <translation>扩展后的提示词</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="113" />
            <source>Job</source>
            <translation>任务</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="113" />
            <source>Status</source>
            <translation>状态</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="113" />
            <source>Reason</source>
            <translation>原因</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="114" />
            <source>Error</source>
            <translation>错误</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="114" />
            <source>Hint</source>
            <translation>建议</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="115" />
            <source>Finished</source>
            <translation>完成时间</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="117" />
            <source>Video</source>
            <translation>视频</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="118" />
            <source>File</source>
            <translation>文件</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="118" />
            <source>Size</source>
            <translation>尺寸</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="119" />
            <source>Frames</source>
            <translation>帧数</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="119" />
            <source>FPS</source>
            <translation>帧率</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="120" />
            <source>Duration (s)</source>
            <translation>时长（秒）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="120" />
            <source>Seed</source>
            <translation>种子</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="121" />
            <source>Created</source>
            <translation>创建时间</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="121" />
            <source>Model folder</source>
            <translation>模型文件夹</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="122" />
            <source>Peak memory</source>
            <translation>显存峰值</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="123" />
            <source>Tags</source>
            <translation>标签</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="123" />
            <source>Note</source>
            <translation>备注</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="125" />
            <source>Timings (s)</source>
            <translation>耗时（秒）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="126" />
            <source>Parameters</source>
            <translation>参数</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_actions.py" line="131" />
            <source>Plan</source>
            <translation>运行方案</translation>
        </message>
    </context>
    <context>
        <name>HistoryModel</name>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="76" />
            <source>(no prompt)</source>
            <translation>（无提示词）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="239" />
            <source>Prompt</source>
            <translation>提示词</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="239" />
            <source>Task</source>
            <translation>任务类型</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="239" />
            <source>Size</source>
            <translation>尺寸</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="240" />
            <source>Frames</source>
            <translation>帧数</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="240" />
            <source>Seed</source>
            <translation>种子</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="240" />
            <source>Created</source>
            <translation>创建时间</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="241" />
            <source>★</source>
            <translation>★</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/history_model.py" line="241" />
            <source>Tags</source>
            <translation>标签</translation>
        </message>
    </context>
    <context>
        <name>HistoryView</name>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="88" />
            <source>Search prompts…</source>
            <translation>搜索提示词…</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="92" />
            <source>All tasks</source>
            <translation>全部任务类型</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="96" />
            <source>Finished</source>
            <translation>已完成</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="96" />
            <source>Failed</source>
            <translation>失败</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="97" />
            <source>Cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="97" />
            <source>Interrupted</source>
            <translation>已中断</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="100" />
            <source>Any time</source>
            <translation>全部时间</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="100" />
            <source>Last 24 hours</source>
            <translation>最近 24 小时</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="101" />
            <source>Last 7 days</source>
            <translation>最近 7 天</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="101" />
            <source>Last 30 days</source>
            <translation>最近 30 天</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="104" />
            <source>Favourites</source>
            <translation>收藏</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="106" />
            <source>Tag</source>
            <translation>标签</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="114" />
            <source>Grid</source>
            <translation>网格</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="116" />
            <source>List</source>
            <translation>列表</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="190" />
            <source>Play</source>
            <translation>播放</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="191" />
            <source>Re-run</source>
            <translation>重新生成</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="192" />
            <source>Queue the same request with the same seed</source>
            <translation>用相同的参数和种子再次加入队列</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="193" />
            <source>Remix</source>
            <translation>换种子重做</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="194" />
            <source>Queue the same request with a new seed</source>
            <translation>用相同的参数和新的种子加入队列</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="195" />
            <source>Continue from last frame</source>
            <translation>从最后一帧继续</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="196" />
            <source>Start a new image-to-video job from the last frame</source>
            <translation>以最后一帧为图像，新建图生视频任务</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="197" />
            <source>Edit in Generate</source>
            <translation>在生成页编辑</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="198" />
            <source>Favourite</source>
            <translation>收藏</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="200" />
            <source>Copy command</source>
            <translation>复制命令</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="201" />
            <source>Copy a wan22 generate command line</source>
            <translation>复制一条 wan22 generate 命令行</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="202" />
            <source>Open folder</source>
            <translation>打开文件夹</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="203" />
            <source>Delete…</source>
            <translation>删除…</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="205" />
            <source>Tags, comma separated (Enter saves)</source>
            <translation>标签，用逗号分隔（回车保存）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="207" />
            <source>Retry</source>
            <translation>重试</translation>
        </message>
        <message numerus="yes">
            <location filename="../../wan22_desktop/gui/views/history.py" line="290" />
            <source>%n result(s)</source>
            <translation>
                <numerusform>%n 个结果</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="335" />
            <source>Select a video to see its details.</source>
            <translation>选择一个视频以查看详情。</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="376" />
            <source>The video file is missing</source>
            <translation>视频文件不存在</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="403" />
            <source>Queued job #%1</source>
            <translation>已加入队列：任务 #%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="430" />
            <source>Delete from history</source>
            <translation>从历史中删除</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="431" />
            <source>Delete this video from the history?</source>
            <translation>要从历史中删除这个视频吗？</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="433" />
            <source>Also delete the video and thumbnail files</source>
            <translation>同时删除视频和缩略图文件</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="452" />
            <source>Deleted; files outside the outputs folder were kept</source>
            <translation>已删除；输出文件夹之外的文件已保留</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="455" />
            <source>Deleted from the history</source>
            <translation>已从历史中删除</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="467" />
            <source>The folder no longer exists</source>
            <translation>文件夹已不存在</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="483" />
            <source>Command copied; these settings have no flag: %1</source>
            <translation>命令已复制；以下设置没有对应的参数：%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/history.py" line="486" />
            <source>Command copied to the clipboard</source>
            <translation>命令已复制到剪贴板</translation>
        </message>
    </context>
    <context>
        <name>ModelsTable</name>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="25" />
            <source>Wan2.2 text-to-video, 14B MoE</source>
            <translation>Wan2.2 文生视频，14B MoE</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="26" />
            <source>Wan2.2 image-to-video, 14B MoE</source>
            <translation>Wan2.2 图生视频，14B MoE</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="27" />
            <source>Wan2.2 text/image-to-video, 5B</source>
            <translation>Wan2.2 文/图生视频，5B</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="28" />
            <source>Prompt extension, text (7B)</source>
            <translation>提示词扩展，文本（7B）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="29" />
            <source>Prompt extension, text (14B)</source>
            <translation>提示词扩展，文本（14B）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="30" />
            <source>Prompt extension, image+text (3B)</source>
            <translation>提示词扩展，图像+文本（3B）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="31" />
            <source>Prompt extension, image+text (7B)</source>
            <translation>提示词扩展，图像+文本（7B）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="40" />
            <source>Waiting</source>
            <translation>等待中</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="40" />
            <source>Downloading</source>
            <translation>下载中</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="40" />
            <source>Verifying</source>
            <translation>校验中</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="44" />
            <source>Paused</source>
            <translation>已暂停</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="46" />
            <source>Failed: %1</source>
            <translation>失败：%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="48" />
            <source>Cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="50" />
            <source>Installed</source>
            <translation>已安装</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="51" />
            <source>Not installed</source>
            <translation>未安装</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="101" />
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="101" />
            <source>Status</source>
            <translation>状态</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="101" />
            <source>Progress</source>
            <translation>进度</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="102" />
            <source>Size</source>
            <translation>大小</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="102" />
            <source>Location</source>
            <translation>位置</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/models_table.py" line="121" />
            <source> (optional)</source>
            <translation>（可选）</translation>
        </message>
    </context>
    <context>
        <name>ModelsView</name>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="78" />
            <source>Refresh</source>
            <translation>刷新</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="104" />
            <source>Mirror endpoint (optional), e.g. https://hf-mirror.com</source>
            <translation>镜像地址（可选），例如 https://hf-mirror.com</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="105" />
            <source>Download</source>
            <translation>下载</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="106" />
            <source>Pause</source>
            <translation>暂停</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="107" />
            <source>Resume</source>
            <translation>继续</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="108" />
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="114" />
            <source>Source:</source>
            <translation>下载源：</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="122" />
            <source>Ready to generate</source>
            <translation>可用于生成</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="125" />
            <source>Import folder…</source>
            <translation>导入文件夹…</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="126" />
            <source>Use a model folder already on disk, in place (no copy)</source>
            <translation>直接使用磁盘上已有的模型文件夹（不复制）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="128" />
            <source>Look in caches</source>
            <translation>查找缓存</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="129" />
            <source>Find models downloaded before with huggingface-cli or modelscope</source>
            <translation>查找以前用 huggingface-cli 或 modelscope 下载的模型</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="133" />
            <source>Use this copy</source>
            <translation>使用这份副本</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="135" />
            <source>Models on this computer</source>
            <translation>本机上的模型</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="196" />
            <source>✓ %1 — ready (%2)</source>
            <translation>✓ %1 — 可用（%2）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="198" />
            <source>not installed</source>
            <translation>未安装</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="199" />
            <source>✗ %1 — %2</source>
            <translation>✗ %1 — %2</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="204" />
            <source>Models folder: %1 — %2 free, %3 used by installed models</source>
            <translation>模型文件夹：%1 — 剩余 %2，已安装模型占用 %3</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="259" />
            <source>The mirror endpoint must be an http(s) URL</source>
            <translation>镜像地址必须是 http(s) 网址</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="260" />
            <source>for example https://hf-mirror.com, or leave it empty</source>
            <translation>例如 https://hf-mirror.com，或留空</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="303" />
            <source>Download finished</source>
            <translation>下载完成</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="322" />
            <source>Model folder added: %1</source>
            <translation>已添加模型文件夹：%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="334" />
            <source>Choose a model folder</source>
            <translation>选择模型文件夹</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="347" />
            <source>Hugging Face cache</source>
            <translation>Hugging Face 缓存</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="347" />
            <source>ModelScope cache</source>
            <translation>ModelScope 缓存</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/models.py" line="350" />
            <source>No other copies found</source>
            <translation>没有找到其他副本</translation>
        </message>
    </context>
    <context>
        <name>PlayerView</name>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="58" />
            <source>Open…</source>
            <translation>打开…</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="62" />
            <source>Play / pause (Space)</source>
            <translation>播放 / 暂停（空格）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="66" />
            <source>Previous frame (Left)</source>
            <translation>上一帧（←）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="70" />
            <source>Next frame (Right)</source>
            <translation>下一帧（→）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="78" />
            <source>Loop</source>
            <translation>循环</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="87" />
            <source>Full screen</source>
            <translation>全屏</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="88" />
            <source>Full screen (F, Esc to leave)</source>
            <translation>全屏（F，按 Esc 退出）</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="90" />
            <source>Export frame…</source>
            <translation>导出当前帧…</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="137" />
            <source>Video not found: %1</source>
            <translation>找不到视频：%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="138" />
            <source>it was moved or deleted</source>
            <translation>文件可能已被移动或删除</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="150" />
            <source>Open video</source>
            <translation>打开视频</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="151" />
            <source>Videos (*.mp4 *.mov *.mkv *.webm)</source>
            <translation>视频 (*.mp4 *.mov *.mkv *.webm)</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="214" />
            <source>There is no frame to export yet</source>
            <translation>还没有可导出的画面</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="215" />
            <source>play the video or step to a frame first</source>
            <translation>请先播放视频或逐帧定位到某一帧</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="221" />
            <source>Cannot write %1</source>
            <translation>无法写入 %1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="222" />
            <source>choose a folder you can write to</source>
            <translation>请选择一个可写入的文件夹</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="234" />
            <source>Export frame</source>
            <translation>导出当前帧</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="235" />
            <source>PNG image (*.png)</source>
            <translation>PNG 图片 (*.png)</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="243" />
            <source>Frame saved: %1</source>
            <translation>已保存画面：%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="281" />
            <source>Cannot play this video: %1</source>
            <translation>无法播放此视频：%1</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="282" />
            <source>the file may be damaged or use an unsupported codec</source>
            <translation>文件可能已损坏，或使用了不支持的编码</translation>
        </message>
        <message>
            <location filename="../../wan22_desktop/gui/views/player.py" line="318" />
            <source>Wan22 Player</source>
            <translation>Wan22 播放器</translation>
        </message>
    </context>
</TS>