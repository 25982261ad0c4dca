import { LRUCache } from 'lru-cache';
import { ModelMetricsCache } from '../src/cache/index.js';
const K=1000; const models=Array.from({length:K},(_, i)=>`org-${i%37}/model-${i}-instruct`); const nss=Array.from({length:K},(_, i)=>`team-${i%20}`);
const keys=models.map((m,i)=>`${m}:${nss[i]}`);
const order=new Uint32Array(250000); let x=0x2545f491; for(let i=0;i<order.length;i++){x^=x<<13;x^=x>>>17;x^=x<<5;order[i]=(x>>>0)%K;}
const v={a:1};
const bare=new LRUCache<string,object>({max:10000});
const bareTtl=new LRUCache<string,object>({max:10000, ttl:30000, ttlResolution:1});
const bareTtlPerf=new LRUCache<string,object>({max:10000, ttl:30000, ttlResolution:1, perf:{now:()=>Date.now()+2**32}});
const m=new Map<string,string>();
const ours=new ModelMetricsCache({maxEntries:10000});
for(let i=0;i<K;i++){bare.set(keys[i],v);bareTtl.set(keys[i],v);bareTtlPerf.set(keys[i],v);m.set(models[i],keys[i]);ours.set(models[i],nss[i],{load:{arrivalRate:1,avgInputTokens:1,avgOutputTokens:1},ttftAverage:1,itlAverage:1});}
function t(name:string, f:()=>number){ let best=1e9; for(let r=0;r<30;r++){const s=process.hrtime.bigint(); f(); const ns=Number(process.hrtime.bigint()-s)/order.length; if(ns<best)best=ns;} console.log(name, best.toFixed(1)); }
t('bare', ()=>{let c=0; for(let i=0;i<order.length;i++) if(bare.get(keys[order[i]])!==undefined)c++; return c;});
t('bareTtl', ()=>{let c=0; for(let i=0;i<order.length;i++) if(bareTtl.get(keys[order[i]])!==undefined)c++; return c;});
t('bareTtlPerf', ()=>{let c=0; for(let i=0;i<order.length;i++) if(bareTtlPerf.get(keys[order[i]])!==undefined)c++; return c;});
t('map', ()=>{let c=0; for(let i=0;i<order.length;i++) if(m.get(models[order[i]])!==undefined)c++; return c;});
t('ours', ()=>{let c=0; for(let i=0;i<order.length;i++){const k=order[i]; if(ours.get(models[k],nss[k])!==undefined)c++;} return c;});
const byModel=new LRUCache<string,{namespace:string}>({max:10000, ttl:30000, ttlResolution:1, perf:{now:()=>Date.now()+2**32}});
for(let i=0;i<K;i++) byModel.set(models[i],{namespace:nss[i]});
t('byModel.get', ()=>{let c=0; for(let i=0;i<order.length;i++){const k=order[i]; const e=byModel.get(models[k]); if(e!==undefined&&e.namespace===nss[k])c++;} return c;});
t('byModel.peek+get', ()=>{let c=0; for(let i=0;i<order.length;i++){const k=order[i]; const p=byModel.peek(models[k]); if(p!==undefined&&p.namespace===nss[k]&&byModel.get(models[k])!==undefined)c++;} return c;});
const empty=new Map<string,string>();
t('byModel.get+emptymap', ()=>{let c=0; for(let i=0;i<order.length;i++){const k=order[i]; const o=empty.get(models[k]); const e=byModel.get(o??models[k]); if(e!==undefined&&e.namespace===nss[k])c++;} return c;});
const small=new Map<string,string>([['x','y'],['org-1/model-1-instruct-other','z']]);
t('byModel.get+smallmap', ()=>{let c=0; for(let i=0;i<order.length;i++){const k=order[i]; const o=small.get(models[k]); const e=byModel.get(o??models[k]); if(e!==undefined&&e.namespace===nss[k])c++;} return c;});
t('bare again', ()=>{let c=0; for(let i=0;i<order.length;i++) if(bare.get(keys[order[i]])!==undefined)c++; return c;});
